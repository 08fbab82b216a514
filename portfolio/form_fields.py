"""Form fields shared by several blueprints."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovDateInput
from wtforms import DateField


class DayMonthYearField(DateField):
    """A GOV.UK date input (day, month, year boxes) that copes with any number of posted values.

    The widget unpacks exactly three values, so a hostile or truncated post is padded or cut
    to three before anything else looks at it.
    """

    widget = GovDateInput()

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        kwargs.setdefault("format", "%d %m %Y")
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        parts = [" ".join(str(v).split()) for v in valuelist[:3]]
        self.raw_data = parts + [""] * (3 - len(parts))
        self.data = None
        if not any(self.raw_data):
            return
        if not all(part.isdigit() and len(part) <= 4 for part in self.raw_data):
            raise ValueError("Enter a real date, using numbers for the day, month and year")
        try:
            super().process_formdata([" ".join(self.raw_data)])
        except ValueError:
            raise ValueError("Enter a real date, for example 27 3 2025") from None
