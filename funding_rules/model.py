"""A funding year's apprenticeship rules, and the figures an enrolment takes from them."""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal


class OtjRule(enum.Enum):
    """How the funding rules of a start date set the minimum off-the-job training."""

    SHARE_OF_WORKING_HOURS = "share_of_working_hours"  # 20% of normal working hours (to July 2022)
    HOURS_A_WEEK = "hours_a_week"  # 6 hours a week full-time, 20% of hours part-time (to July 2025)
    PUBLISHED_MINIMUM = "published_minimum"  # the standard version's published figure (from August 2025)


@dataclass(frozen=True, slots=True)
class DurationException:
    """A reason the rules accept for a planned duration below the minimum."""

    code: str
    label: str


@dataclass(frozen=True, slots=True)
class OffTheJob:
    rule: OtjRule
    percent: Decimal = Decimal(0)  # of the weekly hours counted (share of working hours)
    counted_weekly_hours_up_to: Decimal = Decimal(0)
    hours_a_week: Decimal = Decimal(0)  # for a full-time apprentice (hours a week)
    full_time_weekly_hours: Decimal = Decimal(0)
    part_time_percent: Decimal = Decimal(0)
    statutory_leave_weeks_per_year: Decimal = Decimal(0)
    floor_hours: int = 0  # never below this, prior learning or not (published minimum)


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules for apprenticeships starting on or after `starts_from` (until the next set's)."""

    funding_year: str  # "2025 to 2026"
    starts_from: date
    source: str
    minimum_months: int
    exceptions: tuple[DurationException, ...]
    off_the_job: OffTheJob
    adults_may_leave_out_english_and_maths_from: date | None  # a decision on or after this date
    review_weeks: int = 12  # a progress review at least every this many weeks
    # The assessment organisation (EPAO) is recorded no later than this many months before the planned end.
    epao_months_before_end: int = 6

    @property
    def name(self) -> str:
        return f"the funding rules for starts from {self.starts_from.day} {self.starts_from:%B %Y}"

    def epao_required_from(self, planned_end: date) -> date:
        """The day from which an apprenticeship planned to end on `planned_end` must have its
        assessment organisation recorded."""
        return add_calendar_months(planned_end, -self.epao_months_before_end)

    def exception(self, code: str | None) -> DurationException | None:
        return next((e for e in self.exceptions if e.code == code), None)


@dataclass(frozen=True, slots=True)
class Plan:
    """What the minimum off-the-job hours of an enrolment depend on."""

    start: date
    planned_end: date
    published_minimum_hours: int | None  # the standard version's, when it publishes one
    weekly_hours: Decimal | None  # contracted hours a week, when recorded
    prior_learning_hours: int = 0  # recognised prior learning, taken off the hours


@dataclass(frozen=True, slots=True)
class OtjMinimum:
    hours: int
    working: str  # the arithmetic, in words, for the pages that show the figure


def minimum_otj(rules: RuleSet, plan: Plan) -> OtjMinimum:
    """The fewest planned off-the-job hours `rules` accept for `plan`, with the arithmetic."""
    otj = rules.off_the_job
    prior = plan.prior_learning_hours
    less_prior = f", less {prior:,} hours of recognised prior learning" if prior else ""
    if otj.rule is OtjRule.PUBLISHED_MINIMUM:
        if plan.published_minimum_hours is None:
            return OtjMinimum(
                otj.floor_hours,
                f"the standard version publishes no minimum, so the floor of {otj.floor_hours} hours applies "
                f"({rules.name})",
            )
        hours = max(otj.floor_hours, plan.published_minimum_hours - prior)
        floor = f", never below {otj.floor_hours}" if prior else ""
        return OtjMinimum(
            hours,
            f"{plan.published_minimum_hours:,} hours published for the standard version{less_prior}{floor} "
            f"({rules.name})",
        )
    days = Decimal((plan.planned_end - plan.start).days)
    weeks = days / 7 - otj.statutory_leave_weeks_per_year * days / 365
    weeks_text = f"{_figure(weeks)} weeks of the practical period, after statutory leave"
    weekly = plan.weekly_hours
    if otj.rule is OtjRule.HOURS_A_WEEK:
        if weekly is None or weekly >= otj.full_time_weekly_hours:
            exact = otj.hours_a_week * weeks
            how = f"{_figure(otj.hours_a_week)} hours a week (full-time) over {weeks_text}"
        else:
            exact = otj.part_time_percent / 100 * weekly * weeks
            how = f"{_figure(otj.part_time_percent)}% of {_figure(weekly)} hours a week (part-time) over {weeks_text}"
    else:
        counted = min(weekly, otj.counted_weekly_hours_up_to) if weekly is not None else otj.counted_weekly_hours_up_to
        exact = otj.percent / 100 * counted * weeks
        assumed = "" if weekly is not None else " (no weekly hours recorded: full-time assumed)"
        how = f"{_figure(otj.percent)}% of {_figure(counted)} hours a week{assumed} over {weeks_text}"
    hours = max(0, _whole(exact) - prior)
    return OtjMinimum(hours, f"{how}: {_whole(exact):,} hours{less_prior} ({rules.name})")


def add_calendar_months(day: date, months: int) -> date:
    """The same day `months` later; a day the month lacks becomes its last (30 Nov + 3 = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _whole(hours: Decimal) -> int:
    return int(hours.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _figure(value: Decimal) -> str:
    """1 decimal place at most, without a trailing .0: 46.4, 6, 20."""
    text = f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):f}"
    return text.removesuffix(".0")
