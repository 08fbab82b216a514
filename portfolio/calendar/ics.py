"""A feed's events as an iCalendar file (RFC 5545), written by the `icalendar` package, which
escapes text and folds long lines as the standard says."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from icalendar import Calendar, Event, vDuration

from .domain import FeedEvent

PRODUCT = "-//Apprenticeship portfolio//Calendar feed//EN"
REFRESH = timedelta(hours=6)  # how often calendar apps are asked to fetch the feed again


def calendar_file(
    events: Iterable[FeedEvent], *, name: str, uid_domain: str, page_url: Callable[[str, dict], str], now: datetime
) -> bytes:
    """The feed as bytes. Every event lasts all day (DATE values: the rules set days, not times);
    its UID is `uid@uid_domain`, the same on every fetch."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH).to_ical().decode())  # Outlook's older name for it
    for shown in events:
        event = Event()
        event.add("uid", f"{shown.uid}@{uid_domain}")
        event.add("dtstamp", now)
        event.add("dtstart", shown.day)
        event.add("dtend", shown.day + timedelta(days=1))
        event.add("summary", shown.summary)
        event.add("description", shown.description)
        event.add("url", page_url(*shown.page))
        event.add("transp", "TRANSPARENT")  # a deadline, not a meeting: the day stays free
        calendar.add_component(event)
    return calendar.to_ical()
