"""The form kit every feature builds its forms from."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovSubmitInput
from wtforms import DateField, Field, RadioField, SubmitField
from wtforms.validators import StopValidation, ValidationError

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


class ChoiceField(RadioField):
    """Radios whose message for a value not offered is the field's own, not WTForms' "Not a valid choice"."""

    def __init__(self, label=None, validators=None, *, invalid: str, **kwargs) -> None:
        super().__init__(label, validators, **kwargs)
        self.invalid = invalid

    def pre_validate(self, form):
        if self.data is not None and self.data not in {value for value, _ in self.choices}:
            raise ValidationError(self.invalid)


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


def check_rule(rule, *args) -> None:
    """Run a domain rule as a form validator: its DomainError becomes the field's message."""
    try:
        rule(*args)
    except DomainError as error:
        raise ValidationError(error.message) from None


class CriteriaLinksField(Field):
    """Ticked criteria (`criteria=K1`) with a justification each (`justification-K1`).

    `data` is {code: justification} in the standard's order; `code_errors` holds the message
    for each criterion's own box.
    """

    def __init__(self, label=None, validators=None, *, max_justification: int, **kwargs) -> None:
        super().__init__(label, validators, **kwargs)
        self.max_justification = max_justification
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
            elif len(justification) > self.max_justification:
                self._code_error(
                    code, f"The explanation for {code} must be {self.max_justification:,} characters or fewer"
                )

    def _code_error(self, code: str, message: str) -> None:
        self.code_errors[code] = message
        self.errors.append(message)
