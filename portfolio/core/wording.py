"""How the service writes dates, times and hours, in pages, PDFs and messages alike.

A stored moment (a datetime, in UTC) is written as the service's zone shows it (see `clock.local`);
`zone` names another, as the PDF does with the zone it was made in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from . import clock

CENT = Decimal("0.01")


def long_date(value: date | datetime | None, zone: ZoneInfo | str | None = None) -> str:
    """14 February 2019, the GOV.UK way of writing dates; a moment's date where it is shown."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = clock.local(value, zone)
    return f"{value.day} {value:%B %Y}"


def time_of_day(moment: datetime, zone: ZoneInfo | str | None = None) -> str:
    """12:30, on the 24-hour clock, in the zone the moment is shown in."""
    return f"{clock.local(moment, zone):%H:%M}"


def hours_text(hours: Decimal) -> str:
    """12 hours, 1 hour, 7.5 hours, 0.25 hours: no trailing zeros."""
    value = hours.quantize(CENT)
    shown = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{shown} hour" if value == 1 else f"{shown} hours"


def duration_text(duration: timedelta) -> str:
    """7 days, 24 hours, 1 hour, 90 minutes: the largest whole unit that says it exactly (days from two)."""
    minutes = int(duration.total_seconds() // 60)
    for unit, size, least in (("day", 24 * 60, 2), ("hour", 60, 1)):
        if minutes >= size * least and minutes % size == 0:
            count = minutes // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def waiting_text(since: datetime, now: datetime | None = None) -> str:
    """How long something has waited since then, rounded down: under an hour, 5 hours, 3 days, 2 weeks."""
    now = now or datetime.now(UTC)
    # SQLite gives back times without their zone; they are UTC.
    hours = int((now - (since if since.tzinfo else since.replace(tzinfo=UTC))).total_seconds() // 3600)
    if hours < 1:
        return "under an hour"
    for unit, size, below in (("hour", 1, 48), ("day", 24, 24 * 21)):
        if hours < below:
            count = hours // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{hours // (24 * 7)} weeks"
