from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import Field, RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from standard import Standard

from ..domain import DomainError
from ..form_fields import DateInputField
from ..models import Enrolment, OtjActivity, Rag
from ..otj import MAX_LEARNING, MAX_NOTE, check_activity_date, check_hours, parse_hours
from ..progress_reviews import MAX_NOTE as MAX_REVIEW_NOTE
from ..progress_reviews import MAX_TEXT, check_review_date


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


class ChoiceField(RadioField):
    """Radios whose message for a value not offered is the field's own, not WTForms' "Not a valid choice"."""

    def __init__(self, label=None, validators=None, *, invalid: str, **kwargs) -> None:
        super().__init__(label, validators, **kwargs)
        self.invalid = invalid

    def pre_validate(self, form):
        if self.data is not None and self.data not in {value for value, _ in self.choices}:
            raise ValidationError(self.invalid)


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
            _check(check_activity_date, field.data, self.enrolment, self.today)

    def validate_hours(self, field):
        if field.data is not None:
            _check(check_hours, field.data)


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


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


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
            _check(check_review_date, field.data, self.enrolment, self.today)


class SignForm(FlaskForm):
    signer = StringField()  # hidden in the page; checked by the domain
    submit = SubmitField("Sign", widget=GovSubmitInput())


def _check(rule, *args) -> None:
    try:
        rule(*args)
    except DomainError as error:
        raise ValidationError(error.message) from None
