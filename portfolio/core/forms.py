"""The form kit every feature builds its forms from."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import DateField, Field, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, StopValidation, ValidationError

from standard import Standard

from .domain import DomainError


class DateInputField(DateField):
    """Day, month and year boxes. Blank is None; `required` is the message when a date must be given.

    `called` is how messages name the field (its label by default).
    """

    widget = GovDateInput()

    def __init__(self, label=None, validators=None, *, required: str | None = None, called=None, **kwargs):
        super().__init__(label, validators, format="%d %m %Y", **kwargs)
        self.required = required
        self.called = called or self.label.text

    def process_formdata(self, valuelist):
        # Always three parts, however many arrive: the widget shows them in three boxes.
        parts = [str(value).strip() for value in valuelist[:3]]
        parts += [""] * (3 - len(parts))
        self.raw_data = parts
        self.data = None
        if not any(parts):
            return
        name = self.called
        missing = [part for part, value in zip(("a day", "a month", "a year"), parts, strict=True) if not value]
        if missing:
            raise ValueError(f"{name} must include {' and '.join(missing)}")
        day, month, year = parts
        if not all(p.isascii() and p.isdigit() for p in parts) or len(year) != 4:
            raise ValueError(f"{name} must be a real date, like 27 3 2025")
        try:
            value = date(int(year), int(month), int(day))
        except ValueError:
            raise ValueError(f"{name} must be a real date, like 27 3 2025") from None
        if not 1900 <= value.year <= 2100:
            raise ValueError(f"{name} must be between 1900 and 2100")
        self.data = value

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()
        if self.data is None and self.required:
            raise StopValidation(self.required)


_INVALID = object()  # the data of a choice field whose submitted value could not be read


class _Choice:
    """A choice field that answers a missing or unknown value with `message`, never WTForms'
    "Not a valid choice".

    The value "" is the placeholder ("Choose...", "Not assigned") and reads as None, which
    only a field that is not `required` accepts.
    """

    def __init__(self, label=None, validators=None, *, message: str, required: bool = True, choices=(), **kwargs):
        super().__init__(label, validators, **kwargs)
        convert = self.coerce
        self.coerce = lambda value: None if value is None or value == "" else convert(value)
        self.choices = list(choices)
        self.message = message
        self.required = required

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = _INVALID

    def pre_validate(self, form):
        chosen = any(choice.selected for choice in self.iter_choices())
        if not chosen or (self.data is None and self.required):
            raise StopValidation(self.message)


class ChoiceField(_Choice, SelectField):
    widget = GovSelect()


class RadioChoiceField(_Choice, RadioField):
    widget = GovRadioInput()


def length_limit(called: str, maximum: int) -> Length:
    """The longest a text may be, with the message that names the field as `called`."""
    return Length(max=maximum, message=f"{called} must be {maximum:,} characters or fewer")


def long_text(
    label: str, max_length: int, *, called: str = "", required: str | None = None, description: str = "", widget=None
) -> TextAreaField:
    """A text area of at most `max_length` characters.

    `called` names the field in the message (the label by default); `required` is the message
    when it is left blank; `widget` replaces the plain GOV.UK text area.
    """
    validators = [InputRequired(required)] if required else []
    validators.append(length_limit(called or label, max_length))
    return TextAreaField(label, widget=widget or GovTextArea(), description=description, validators=validators)


def text_field(label: str, *, maximum: int, called: str = "", required: str | None = None, **kwargs) -> StringField:
    """A one-line text box of at most `maximum` characters; `called` and `required` as for `long_text`."""
    validators = [InputRequired(required)] if required else []
    validators.append(length_limit(called or label, maximum))
    return StringField(label, widget=GovTextInput(), validators=validators, **kwargs)


def submit_button(label: str, **kwargs) -> SubmitField:
    return SubmitField(label, widget=GovSubmitInput(), **kwargs)


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token."""

    submit = submit_button("Confirm")


def check_rule(rule, *args) -> None:
    """Run a domain rule as a form validator: its DomainError becomes the field's message."""
    try:
        rule(*args)
    except DomainError as error:
        raise ValidationError(error.message) from None


class TickedCriteriaField(Field):
    """Criteria ticked in checkboxes of the field's name (`criteria=K1&criteria=S4`), in the page's
    order, each with what its own inputs hold (see `_read`).

    The form sets `standard`, which the codes must belong to. `code_errors` holds the message for
    each criterion's own input, by the key its template looks it up with.
    """

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        super().__init__(label, validators, **kwargs)
        self.standard: Standard | None = None
        self.code_errors: dict[str, str] = {}

    def process(self, formdata, data=None, extra_filters=None):
        self.process_errors = []
        self.data = self._initial(data)
        self.raw_data = None
        if formdata is None:
            return
        # A criterion's code is at most ten characters, the width of the columns that store it.
        ticked = dict.fromkeys(v[:10] for v in formdata.getlist(self.name) if isinstance(v, str))
        self.data = self._read(formdata, list(ticked))
        self.raw_data = list(self.data)

    def _initial(self, data):
        """`data` as the form was given it (an object's attribute or `data=`)."""
        raise NotImplementedError

    def _read(self, formdata, codes: list[str]):
        """The field's data from the ticked `codes` and their own inputs."""
        raise NotImplementedError

    def _not_a_criterion(self, code: str) -> str | None:
        """The message for a code the standard does not have, if it does not."""
        if self.standard is not None and code not in self.standard:
            return f"{code} is not a criterion of {self.standard.reference}"
        return None

    def error_for(self, key: str, message: str) -> None:
        """Put `message` on one criterion's own input."""
        self.code_errors[key] = message
        self.errors.append(message)


class CriteriaCodesField(TickedCriteriaField):
    """Ticked criteria and nothing more: `data` is the list of codes."""

    def _initial(self, data):
        return data.split() if isinstance(data, str) else list(data or [])

    def _read(self, formdata, codes):
        return codes

    def pre_validate(self, form):
        for code in self.data:
            if unknown := self._not_a_criterion(code):
                raise ValidationError(unknown)


class CriteriaLinksField(TickedCriteriaField):
    """Ticked criteria with a justification each (`justification-K1`): `data` is {code: justification}.

    `code_errors` is by code.
    """

    def __init__(self, label=None, validators=None, *, max_justification: int, **kwargs) -> None:
        super().__init__(label, validators, **kwargs)
        self.max_justification = max_justification

    def _initial(self, data):
        return dict(data or {})

    def _read(self, formdata, codes):
        return {code: formdata.get(f"justification-{code}", "") for code in codes}

    def pre_validate(self, form):
        for code, justification in self.data.items():
            if unknown := self._not_a_criterion(code):
                self.errors.append(unknown)
            elif not justification.strip():
                self.error_for(code, f"Explain how this evidence shows {code}")
            elif len(justification) > self.max_justification:
                self.error_for(
                    code, f"The explanation for {code} must be {self.max_justification:,} characters or fewer"
                )
