from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import Field, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from standard import Standard

from ..core.domain import DomainError
from ..core.forms import ChoiceField, DateInputField, check_rule
from ..models import Enrolment, OtjActivity
from .domain import MAX_LEARNING, MAX_NOTE, check_activity_date, check_hours, parse_hours


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


class CriteriaCodesField(Field):
    """Ticked criteria (`criteria=K1&criteria=S4`): `data` is the list of codes, in the order ticked."""

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        super().__init__(label, validators, **kwargs)
        self.standard: Standard | None = None

    def process(self, formdata, data=None, extra_filters=None):
        self.process_errors = []
        self.data = data.split() if isinstance(data, str) else list(data or [])
        self.raw_data = None
        if formdata is not None:
            ticked = dict.fromkeys(v[:10] for v in formdata.getlist(self.name) if isinstance(v, str))
            self.data = list(ticked)
            self.raw_data = self.data

    def pre_validate(self, form):
        if self.standard is not None:
            for code in self.data:
                if code not in self.standard:
                    raise ValidationError(f"{code} is not a criterion of {self.standard.reference}")


class OtjEntryForm(FlaskForm):
    activity_date = DateInputField(
        "Date of the training", required="Enter the date of the training", description="For example, 27 3 2026"
    )
    hours = HoursField("Hours", description="For example, 1.5 for an hour and a half. At most 24 hours an entry.")
    activity = ChoiceField(
        "What kind of training was it?",
        widget=GovRadioInput(),
        choices=[(a.value, a.label) for a in OtjActivity],
        validators=[InputRequired("Choose the kind of training")],
        invalid="Choose the kind of training",
    )
    learning = TextAreaField(
        "What did you learn?",
        widget=GovCharacterCount(),
        description="What the training covered and how it helps you in your job.",
        validators=[
            InputRequired("Say what you learnt"),
            Length(max=MAX_LEARNING, message=f"What you learnt must be {MAX_LEARNING:,} characters or fewer"),
        ],
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
    note = TextAreaField(
        "What needs checking?",
        widget=GovTextArea(),
        description="The apprentice sees this note and can change the entry.",
        validators=[
            InputRequired("Say what needs checking"),
            Length(max=MAX_NOTE, message=f"The note must be {MAX_NOTE:,} characters or fewer"),
        ],
    )
    submit = SubmitField("Query entry", widget=GovSubmitInput())
