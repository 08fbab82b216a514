from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired, ValidationError

from ..core.domain import DomainError
from ..core.forms import CriteriaCodesField, DateInputField, RadioChoiceField, check_rule, long_text
from ..models import Enrolment, OtjActivity
from ..models.types import MAX_NOTE
from .domain import MAX_LEARNING, check_activity_date, check_hours, parse_hours


class HoursField(StringField):
    """Hours as typed; `data` is a Decimal, or None when blank or not a number."""

    widget = GovTextInput()

    def process_formdata(self, valuelist):
        self.raw_data = valuelist[:1]
        text = str(valuelist[0]).strip() if valuelist else ""
        self.data = None
        if text:
            try:
                self.data = parse_hours(text)
            except DomainError as error:
                raise ValueError(error.message) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data.normalize():f}"

    def pre_validate(self, form):
        if self.process_errors:
            return
        if self.data is None:
            raise ValidationError("Enter the hours")


class OtjEntryForm(FlaskForm):
    activity_date = DateInputField(
        "Date of the training", required="Enter the date of the training", description="For example, 27 3 2026"
    )
    hours = HoursField("Hours", description="For example, 1.5 for an hour and a half. At most 24 hours an entry.")
    activity = RadioChoiceField(
        "What kind of training was it?",
        choices=[(a.value, a.label) for a in OtjActivity],
        validators=[InputRequired("Choose the kind of training")],
        message="Choose the kind of training",
    )
    learning = long_text(
        "What did you learn?",
        MAX_LEARNING,
        called="What you learnt",
        required="Say what you learnt",
        description="What the training covered and how it helps you in your job.",
        widget=GovCharacterCount(),
    )
    criteria = CriteriaCodesField("Criteria this training relates to (optional)")
    submit = SubmitField("Save", widget=GovSubmitInput())

    def __init__(self, *args, enrolment: Enrolment, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.enrolment = enrolment
        self.today = today
        self.criteria.standard = enrolment.standard_version.standard

    def validate_activity_date(self, field):
        if field.data is not None:
            check_rule(check_activity_date, field.data, self.enrolment, self.today)

    def validate_hours(self, field):
        if field.data is not None:
            check_rule(check_hours, field.data)


class QueryForm(FlaskForm):
    note = long_text(
        "What needs checking?",
        MAX_NOTE,
        called="The note",
        required="Say what needs checking",
        description="The apprentice sees this note and can change the entry.",
    )
    submit = SubmitField("Query entry", widget=GovSubmitInput())
