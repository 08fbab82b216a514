from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovSubmitInput,
)
from wtforms import StringField, SubmitField, TextAreaField

from ..core.forms import DateInputField, TickedCriteriaField, check_rule, long_text
from ..models import Enrolment, Rag
from ..models.types import MAX_NOTE
from .domain import MAX_TEXT, check_review_date


class ReviewCriteriaField(TickedCriteriaField):
    """Criteria discussed, each with a rating (`rag-K1`) and a note (`note-K1`).

    `data` is {code: (rating value, note)}; `code_errors` is by the name of the input (`rag-K1`, `note-K1`).
    """

    def _initial(self, data):
        # With `obj=review`, `data` is the review's rows; the view sets the mapping itself.
        return dict(data) if isinstance(data, Mapping) else {}

    def _read(self, formdata, codes):
        return {code: (formdata.get(f"rag-{code}", ""), formdata.get(f"note-{code}", "")) for code in codes}

    def pre_validate(self, form):
        ratings = {r.value for r in Rag}
        for code, (rag, note) in self.data.items():
            if unknown := self._not_a_criterion(code):
                self.errors.append(unknown)
            elif rag not in ratings:
                self.error_for(f"rag-{code}", f"Choose a rating for {code}")
            elif len(note) > MAX_NOTE:
                self.error_for(f"note-{code}", f"The note on {code} must be {MAX_NOTE:,} characters or fewer")

    @property
    def ratings(self) -> dict[str, tuple[Rag, str]]:
        return {code: (Rag(rag), note) for code, (rag, note) in self.data.items() if rag in {r.value for r in Rag}}


def _text(label: str, description: str = "", required: str | None = None) -> TextAreaField:
    return long_text(label, MAX_TEXT, required=required, description=description)


class ReviewForm(FlaskForm):
    review_date = DateInputField(
        "Date of the review", required="Enter the date of the review", description="For example, 27 3 2026"
    )
    attendees = _text("Who attended", "Names and roles.", "Say who attended")
    actions_since_last = _text(
        "Actions since the last review", "What came of each action agreed last time. Leave blank at the first review."
    )
    progress = _text(
        "Progress against the plan",
        "Training delivered, evidence and criteria progress.",
        "Describe progress against the plan",
    )
    otj_and_slippage = _text(
        "Off-the-job training and slippage",
        "Filled in from the off-the-job log; add any slippage against the plan and how to catch up.",
        "Describe the off-the-job training done and any slippage against the plan",
    )
    training_plan_changes = _text(
        "Changes to the training plan",
        "What was agreed to change in the plan, or “None”.",
        "Say what changes to the training plan were agreed, or that there were none",
    )
    criteria = ReviewCriteriaField("Criteria discussed")
    concerns_and_changes = _text(
        "Concerns and changes of circumstance",
        "Concerns any party raised, and changes of job, hours, circumstances or prior learning; or “None”.",
        "Record any concerns and changes of circumstance, or that there were none",
    )
    wellbeing_and_support = _text("Wellbeing and support needs", "Wellbeing and any support needed.")
    actions = _text("Actions agreed", "Who does what before the next review.", "Enter the actions agreed")
    late_reason = _text(
        "Why the review is late (if it is)",
        "Only when the review is more than 12 weeks after the last one, or the start: the funding rules ask why.",
    )
    submit = SubmitField("Save review", widget=GovSubmitInput())

    def __init__(self, *args, enrolment: Enrolment, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.enrolment = enrolment
        self.today = today
        self.criteria.standard = enrolment.standard_version.standard

    def validate_review_date(self, field):
        if field.data is not None:
            check_rule(check_review_date, field.data, self.enrolment, self.today)


class SignForm(FlaskForm):
    signer = StringField()  # hidden in the page; checked by the domain
    submit = SubmitField("Sign", widget=GovSubmitInput())
