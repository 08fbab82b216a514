from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, Field, MultipleFileField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from standard import Standard

from ..evidence_items import MAX_CONSENT_REFERENCE, MAX_JUSTIFICATION, MAX_TEXT, MAX_TITLE
from ..form_fields import DateInputField
from ..models.evidence import EvidenceKind


class CriteriaLinksField(Field):
    """Ticked criteria (`criteria=K1`) with a justification each (`justification-K1`).

    `data` is {code: justification} in the standard's order; `code_errors` holds the message
    for each criterion's own box.
    """

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        super().__init__(label, validators, **kwargs)
        self.standard: Standard | None = None
        self.code_errors: dict[str, str] = {}

    def process(self, formdata, data=None, extra_filters=None):
        self.process_errors = []
        self.data = dict(data or {})
        self.raw_data = None
        if formdata is None:
            return
        ticked = dict.fromkeys(v for v in formdata.getlist(self.name) if isinstance(v, str))
        self.data = {code[:10]: formdata.get(f"justification-{code[:10]}", "") for code in ticked}
        self.raw_data = list(self.data)

    def pre_validate(self, form):
        standard = self.standard
        for code, justification in self.data.items():
            if standard is not None and code not in standard:
                self.errors.append(f"{code} is not a criterion of {standard.reference}")
            elif not justification.strip():
                self._code_error(code, f"Explain how this evidence shows {code}")
            elif len(justification) > MAX_JUSTIFICATION:
                self._code_error(code, f"The explanation for {code} must be {MAX_JUSTIFICATION:,} characters or fewer")

    def _code_error(self, code: str, message: str) -> None:
        self.code_errors[code] = message
        self.errors.append(message)


class EvidenceForm(FlaskForm):
    title = StringField(
        "Title",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter a title"),
            Length(max=MAX_TITLE, message=f"The title must be {MAX_TITLE} characters or fewer"),
        ],
    )
    kind = RadioField(
        "What kind of evidence is it?",
        widget=GovRadioInput(),
        choices=[(k.value, k.label) for k in EvidenceKind],
        validators=[InputRequired("Choose what kind of evidence it is")],
    )
    activity_date = DateInputField(
        "Date of the activity", required="Enter the date of the activity", description="For example, 27 3 2026"
    )
    description = TextAreaField(
        "Description",
        widget=GovTextArea(),
        description="What the activity was, who it was for and what you did.",
        validators=[Length(max=MAX_TEXT, message=f"The description must be {MAX_TEXT:,} characters or fewer")],
    )
    reflection = TextAreaField(
        "Your reflection",
        widget=GovTextArea(),
        description="What went well, what you would do differently and what you learnt.",
        validators=[Length(max=MAX_TEXT, message=f"The reflection must be {MAX_TEXT:,} characters or fewer")],
    )
    contains_third_party_data = BooleanField(
        "This evidence contains other people's personal data (for example people in photos, or a participant list)",
        widget=GovCheckboxInput(),
    )
    consent_reference = StringField(
        "Consent or permission reference",
        widget=GovTextInput(),
        description=(
            "Where the consent is recorded, for example a consent form number. "
            "Without it, the files are left out of exports."
        ),
        validators=[
            Length(
                max=MAX_CONSENT_REFERENCE, message=f"The reference must be {MAX_CONSENT_REFERENCE} characters or fewer"
            )
        ],
    )
    files = MultipleFileField("Files")  # rendered by the template; stored by the view
    criteria = CriteriaLinksField("Criteria this evidence shows")
    submit = SubmitField("Save as draft", widget=GovSubmitInput())


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        "Why are you withdrawing this evidence?",
        widget=GovTextArea(),
        validators=[
            InputRequired("Say why you are withdrawing the evidence"),
            Length(max=MAX_JUSTIFICATION, message=f"The reason must be {MAX_JUSTIFICATION:,} characters or fewer"),
        ],
    )
    submit = SubmitField("Withdraw evidence", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())
