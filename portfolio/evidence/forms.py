from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
)
from wtforms import BooleanField, MultipleFileField, RadioField, SelectField
from wtforms.validators import InputRequired

from ..core.forms import CriteriaLinksField, DateInputField, long_text, submit_button, text_field
from ..models.evidence import EvidenceKind, LinkDecision
from ..review.domain import MAX_COMMENT, MAX_FEEDBACK, Decision
from .items import MAX_CONSENT_REFERENCE, MAX_JUSTIFICATION, MAX_TEXT, MAX_TITLE


class EvidenceForm(FlaskForm):
    title = text_field("Title", maximum=MAX_TITLE, called="The title", required="Enter a title")
    kind = RadioField(
        "What kind of evidence is it?",
        widget=GovRadioInput(),
        choices=[(k.value, k.label) for k in EvidenceKind],
        validators=[InputRequired("Choose what kind of evidence it is")],
    )
    activity_date = DateInputField(
        "Date of the activity", required="Enter the date of the activity", description="For example, 27 3 2026"
    )
    description = long_text(
        "Description",
        MAX_TEXT,
        called="The description",
        description="What the activity was, who it was for and what you did.",
    )
    reflection = long_text(
        "Your reflection",
        MAX_TEXT,
        called="The reflection",
        description="What went well, what you would do differently and what you learnt.",
    )
    contains_third_party_data = BooleanField(
        "This evidence contains other people's personal data (for example people in photos, or a participant list)",
        widget=GovCheckboxInput(),
    )
    consent_reference = text_field(
        "Consent or permission reference",
        maximum=MAX_CONSENT_REFERENCE,
        called="The reference",
        description=(
            "Where the consent is recorded, for example a consent form number. "
            "Without it, the files are left out of exports."
        ),
    )
    files = MultipleFileField("Files")  # rendered by the template; stored by the view
    criteria = CriteriaLinksField("Criteria this evidence shows", max_justification=MAX_JUSTIFICATION)
    submit = submit_button("Save as draft")


class WithdrawForm(FlaskForm):
    reason = long_text(
        "Why are you withdrawing this evidence?",
        MAX_JUSTIFICATION,
        called="The reason",
        required="Say why you are withdrawing the evidence",
    )
    submit = submit_button("Withdraw evidence")


EACH_CRITERION = "each"  # the decision that decides each criterion on its own


class DecisionForm(FlaskForm):
    """The reviewer's decision: on every criterion at once, or on each; `item_decision_form` adds the
    fields of each criterion the item claims ("<code>-decision", "<code>-feedback")."""

    decision = RadioField(
        "Your decision",
        widget=GovRadioInput(),
        choices=[(d.value, d.label) for d in Decision] + [(EACH_CRITERION, "Decide each criterion")],
        validators=[InputRequired("Choose whether to accept the evidence or refer it back")],
    )
    feedback = long_text(
        "Feedback for the apprentice",
        MAX_FEEDBACK,
        called="The feedback",
        description="Needed when you refer the evidence back: say what to change. Optional when you accept it.",
    )
    submit = submit_button("Record decision")

    def criteria_decided(self, codes: list[str]) -> dict[str, tuple[Decision, str]] | None:
        """{code: (decision, feedback)} when deciding each criterion (those left undecided are
        left out, for the rules to name), else None."""
        if self.decision.data != EACH_CRITERION:
            return None
        return {
            code: (Decision(self[f"{code}-decision"].data), self[f"{code}-feedback"].data or "")
            for code in codes
            if self[f"{code}-decision"].data in {d.value for d in Decision}
        }


def item_decision_form(item, **form_args) -> DecisionForm:
    """The decision form of `item`, with a decision and feedback for each criterion it claims,
    filled in from the reviewer's last decisions (an accepted criterion stays accepted)."""

    class ItemDecisionForm(DecisionForm):
        pass

    for link in item.links:
        choice = RadioField(
            f"{link.criterion_code}",
            widget=GovRadioInput(),
            choices=[
                (Decision.ACCEPT.value, f"Accept {link.criterion_code}"),
                (Decision.REFER.value, f"Refer {link.criterion_code} back"),
            ],
            default=Decision.ACCEPT.value if link.decision is LinkDecision.ACCEPTED else None,
            validate_choice=False,
        )
        setattr(ItemDecisionForm, f"{link.criterion_code}-decision", choice)
        setattr(
            ItemDecisionForm,
            f"{link.criterion_code}-feedback",
            long_text(
                f"Feedback on {link.criterion_code}", MAX_FEEDBACK, called=f"The feedback on {link.criterion_code}"
            ),
        )
    return ItemDecisionForm(**form_args)  # formdata=None for a form shown unsent


class CommentForm(FlaskForm):
    comment = long_text("Add a comment", MAX_COMMENT, called="The comment", required="Write a comment")
    # Its own id: the item's page may also hold the decision form, whose button is "submit".
    submit = submit_button("Post comment", id="post-comment")


class ReassignForm(FlaskForm):
    reviewer = SelectField(
        "Give the review to", widget=GovSelect(), coerce=int, validators=[InputRequired("Choose a tutor")]
    )  # the choices are the provider's other tutors, set by the view
    submit = submit_button("Give the review", id="give-review")
