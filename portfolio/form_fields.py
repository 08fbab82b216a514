"""Form fields shared by several blueprints."""

from __future__ import annotations

from datetime import date

from govuk_frontend_wtf.wtforms_widgets import GovDateInput
from wtforms import DateField
from wtforms.validators import StopValidation


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
