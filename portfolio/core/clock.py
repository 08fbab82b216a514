"""Today's date where the apprenticeship rules apply: in England, whatever the server's zone.

A server on UTC would otherwise move deadlines by a day for the first hour of every summer day.
Call it as `clock.today()` so the test run can fix one date for its whole length.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

ENGLAND = ZoneInfo("Europe/London")


def today() -> date:
    return datetime.now(ENGLAND).date()


def day_of(moment: datetime) -> date:
    """The date in England of a UTC moment (an export made at 00:30 BST is dated that day)."""
    return moment.astimezone(ENGLAND).date()
