from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovSubmitInput,
    GovTextArea,
)
from wtforms import Field, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from standard import Standard

from ..core.forms import DateInputField, check_rule
from ..models import Enrolment, Rag
from .domain import MAX_NOTE as MAX_REVIEW_NOTE
from .domain import MAX_TEXT, check_review_date


class ReviewCriteriaField(Field):
    """Criteria discussed (`criteria=K1`), each with a rating (`rag-K1`) and a note (`note-K1`).

    `data` is {code: (rating value, note)} in the order ticked; `code_errors` holds each
    criterion's own messages, by the name of its input (`rag-K1`, `note-K1`).
    """

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        super().__init__(label, validators, **kwargs)
        self.standard: Standard | None = None
        self.code_errors: dict[str, str] = {}

    def process(self, formdata, data=None, extra_filters=None):
        self.process_errors = []
        # With `obj=review`, `data` is the review's rows; the view sets the mapping itself.
        self.data = dict(data) if isinstance(data, Mapping) else {}
        self.raw_data = None
        if formdata is None:
            return
        ticked = dict.fromkeys(v[:10] for v in formdata.getlist(self.name) if isinstance(v, str))
        self.data = {code: (formdata.get(f"rag-{code}", ""), formdata.get(f"note-{code}", "")) for code in ticked}
        self.raw_data = list(self.data)

    def pre_validate(self, form):
        ratings = {r.value for r in Rag}
        for code, (rag, note) in self.data.items():
            if self.standard is not None and code not in self.standard:
                self.errors.append(f"{code} is not a criterion of {self.standard.reference}")
            elif rag not in ratings:
                self.error_for(f"rag-{code}", f"Choose a rating for {code}")
            elif len(note) > MAX_REVIEW_NOTE:
                self.error_for(f"note-{code}", f"The note on {code} must be {MAX_REVIEW_NOTE:,} characters or fewer")

    def error_for(self, name: str, message: str) -> None:
        self.code_errors[name] = message
        self.errors.append(message)

    @property
    def ratings(self) -> dict[str, tuple[Rag, str]]:
        return {code: (Rag(rag), note) for code, (rag, note) in self.data.items() if rag in {r.value for r in Rag}}


def _text(label: str, description: str = "", required: str | None = None) -> TextAreaField:
    validators = [InputRequired(required)] if required else []
    validators.append(Length(max=MAX_TEXT, message=f"{label} must be {MAX_TEXT:,} characters or fewer"))
    return TextAreaField(label, widget=GovTextArea(), description=description, validators=validators)


class ReviewForm(FlaskForm):
    review_date = DateInputField(
        "Date of the review", required="Enter the date of the review", description="For example, 27 3 2026"
    )
    attendees = _text("Who attended", "Names and roles.", "Say who attended")
    progress = _text(
        "Progress against the plan",
        "Actions from the last review, training delivered, evidence and criteria progress.",
        "Describe progress against the plan",
    )
    otj_and_slippage = _text(
        "Off-the-job training and slippage", "Filled in from the off-the-job log; add any slippage and how to catch up."
    )
    criteria = ReviewCriteriaField("Criteria discussed")
    wellbeing_and_support = _text(
        "Wellbeing and support needs", "Wellbeing, support needs and any change of circumstances."
    )
    actions = _text("Actions agreed", "Who does what before the next review.", "Enter the actions agreed")
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
