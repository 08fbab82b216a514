"""Working days in England and Wales: weekdays less the bank holidays."""

from __future__ import annotations

from datetime import date

import pytest

from portfolio.core.working_days import bank_holidays, easter_sunday, is_working_day, latest_day_waiting_longer_than


def _days(*text: str) -> set[date]:
    return {date.fromisoformat(day) for day in text}


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        # As published for England and Wales (gov.uk/bank-holidays), substitute days included.
        (2022, ("2022-01-03", "2022-04-15", "2022-04-18", "2022-05-02", "2022-06-02", "2022-06-03",
                "2022-08-29", "2022-09-19", "2022-12-26", "2022-12-27")),
        (2023, ("2023-01-02", "2023-04-07", "2023-04-10", "2023-05-01", "2023-05-08", "2023-05-29",
                "2023-08-28", "2023-12-25", "2023-12-26")),
        (2026, ("2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31",
                "2026-12-25", "2026-12-28")),
        (2027, ("2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30",
                "2027-12-27", "2027-12-28")),
    ],
)  # fmt: skip
def test_the_bank_holidays_of_a_year(year, expected):
    assert bank_holidays(year) == _days(*expected)


def test_easter():
    assert [easter_sunday(year) for year in (2024, 2025, 2038)] == [
        date(2024, 3, 31),
        date(2025, 4, 20),
        date(2038, 4, 25),
    ]


def test_weekends_and_bank_holidays_are_not_working_days():
    assert [is_working_day(date(2026, 5, day)) for day in (22, 23, 24, 25, 26)] == [True, False, False, False, True]


def test_what_arrived_on_the_day_found_has_waited_longer_than_the_working_days():
    # Tuesday 9 June 2026: from Monday 1 June, six working days have gone (2-5 and 8-9 June).
    assert latest_day_waiting_longer_than(5, date(2026, 6, 9)) == date(2026, 6, 1)
    # Across the spring bank holiday (Monday 25 May): Tuesday 19 May to Wednesday 27 May is six.
    assert latest_day_waiting_longer_than(5, date(2026, 5, 27)) == date(2026, 5, 18)
    # On a Sunday, what came by Thursday has waited longer than none: Friday has gone since.
    assert latest_day_waiting_longer_than(0, date(2026, 6, 7)) == date(2026, 6, 4)
