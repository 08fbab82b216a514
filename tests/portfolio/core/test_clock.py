"""The date the rules use is England's, not the server's."""

from __future__ import annotations

from datetime import UTC, date, datetime

from portfolio.core import clock


def test_a_utc_moment_is_dated_in_england():
    # 23:30 UTC on a summer evening is already the next day in London (BST, UTC+1)
    assert clock.day_of(datetime(2026, 7, 1, 23, 30, tzinfo=UTC)) == date(2026, 7, 2)
    # in winter London is on UTC
    assert clock.day_of(datetime(2026, 12, 1, 23, 30, tzinfo=UTC)) == date(2026, 12, 1)
