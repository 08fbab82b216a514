"""How the service writes dates and hours, in pages, PDFs and messages alike."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

CENT = Decimal("0.01")


def long_date(value: date | datetime | None) -> str:
    """14 February 2019, the GOV.UK way of writing dates."""
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y}"


def hours_text(hours: Decimal) -> str:
    """12 hours, 1 hour, 7.5 hours, 0.25 hours: no trailing zeros."""
    value = hours.quantize(CENT)
    shown = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{shown} hour" if value == 1 else f"{shown} hours"
