"""Today's date where the apprenticeship rules apply, and stored moments as people read them.

The rules are England's, whatever the server's zone: a server on UTC would otherwise move
deadlines by a day for the first hour of every summer day. Call it as `clock.today()` so the
test run can fix one date for its whole length.

Times are stored in UTC and shown in the service's zone (PORTFOLIO_TIMEZONE, by default
Europe/London): `local` is the one conversion every page, PDF and download goes through.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

ENGLAND = ZoneInfo("Europe/London")


def today() -> date:
    return datetime.now(ENGLAND).date()


def day_of(moment: datetime) -> date:
    """The date in England of a UTC moment (an export made at 00:30 BST is dated that day)."""
    return local(moment, ENGLAND).date()


def shown_zone() -> ZoneInfo:
    """The zone times are shown in: the setting (checked when the app starts), or its default
    outside an app (a script, a unit test)."""
    if has_app_context():
        return ZoneInfo(current_app.config["TIMEZONE"])  # zoneinfo keeps each zone it has read
    return ENGLAND


def local(moment: datetime, zone: ZoneInfo | str | None = None) -> datetime:
    """A stored moment as the clocks in `zone` (by default the service's) showed it."""
    if isinstance(zone, str):
        zone = ZoneInfo(zone)
    if moment.tzinfo is None:  # as SQLite may give it back: stored times are UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone or shown_zone())


def zone_description(name: str) -> str:
    """How a document names the zone its times are in: "UK time (Europe/London)"."""
    return "UK time (Europe/London)" if name == ENGLAND.key else f"local time in {name}"
