"""Working days in England and Wales: Monday to Friday, less the bank holidays.

The bank holidays follow the standing rules (New Year's Day, Good Friday, Easter Monday, the
first and last Mondays of May, the last Monday of August, Christmas Day and Boxing Day, a day
that falls at a weekend moved to the next weekday), with the one-off changes made since 2020.
A new one-off (a coronation, a jubilee) must be added to `MOVED` or `EXTRA` when announced.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

SATURDAY = 5
# A bank holiday moved by proclamation (the rule's day -> the day it was), and extra ones.
MOVED = {date(2020, 5, 4): date(2020, 5, 8), date(2022, 5, 30): date(2022, 6, 2)}
EXTRA = frozenset({date(2022, 6, 3), date(2022, 9, 19), date(2023, 5, 8)})


def easter_sunday(year: int) -> date:
    """Easter Day in the Gregorian calendar (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 (the algorithm's own name)
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _monday_on_or_after(day: date) -> date:
    return day + timedelta(days=-day.weekday() % 7)


def _last_monday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=last.weekday())


@lru_cache(maxsize=64)
def bank_holidays(year: int) -> frozenset[date]:
    easter = easter_sunday(year)
    fixed = [date(year, 1, 1), date(year, 12, 25), date(year, 12, 26)]
    days = {
        easter - timedelta(days=2),
        easter + timedelta(days=1),
        _monday_on_or_after(date(year, 5, 1)),
        _last_monday(year, 5),
        _last_monday(year, 8),
    }
    for day in fixed:  # in date order, so that Boxing Day moves past a moved Christmas Day
        while day.weekday() >= SATURDAY or day in days:
            day += timedelta(days=1)
        days.add(day)
    days = {MOVED.get(day, day) for day in days}
    return frozenset(days | {day for day in EXTRA if day.year == year})


def is_working_day(day: date) -> bool:
    return day.weekday() < SATURDAY and day not in bank_holidays(day.year)


def latest_day_waiting_longer_than(working_days: int, today: date) -> date:
    """The latest day from which more than `working_days` working days have gone by `today`
    (counting the days after it, up to and including today): whatever arrived on it or before
    has waited longer than that."""
    day, counted = today, 0
    while counted <= working_days:
        counted += is_working_day(day)
        day -= timedelta(days=1)
    return day
