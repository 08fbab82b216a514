"""The funding rule sets: which applies to a start date, and the off-the-job minimum each gives,
with the arithmetic written out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from funding_rules import OtjRule, Plan, RulesError, add_calendar_months, load_rule_sets, minimum_otj

RULES = load_rule_sets()


@pytest.mark.parametrize(
    ("start", "funding_year", "months", "rule"),
    [
        (date(2016, 9, 1), "2017 to 2018", 12, OtjRule.SHARE_OF_WORKING_HOURS),  # before the first: the first
        (date(2022, 7, 31), "2017 to 2018", 12, OtjRule.SHARE_OF_WORKING_HOURS),
        (date(2022, 8, 1), "2022 to 2023", 12, OtjRule.HOURS_A_WEEK),
        (date(2025, 7, 31), "2022 to 2023", 12, OtjRule.HOURS_A_WEEK),
        (date(2025, 8, 1), "2025 to 2026", 8, OtjRule.PUBLISHED_MINIMUM),
        (date(2026, 8, 1), "2026 to 2027", 8, OtjRule.PUBLISHED_MINIMUM),
    ],
)
def test_the_rules_of_a_start_date_are_the_latest_set_starting_on_or_before_it(start, funding_year, months, rule):
    rules = RULES.for_start(start)
    assert (rules.funding_year, rules.minimum_months, rules.off_the_job.rule) == (funding_year, months, rule)


FROM_2025 = RULES.for_start(date(2025, 9, 1))
BEFORE_2025 = RULES.for_start(date(2024, 9, 1))
BEFORE_2022 = RULES.for_start(date(2020, 9, 1))


def _plan(start=date(2025, 9, 1), end=date(2026, 9, 1), published=None, weekly=None, prior=0) -> Plan:
    return Plan(start, end, published, Decimal(weekly) if weekly is not None else None, prior)


def test_from_august_2025_the_published_minimum_less_prior_learning_never_below_187():
    assert minimum_otj(FROM_2025, _plan(published=312)).hours == 312
    # 312 - 40 = 272
    minimum = minimum_otj(FROM_2025, _plan(published=312, prior=40))
    assert minimum.hours == 272
    assert minimum.working == (
        "312 hours published for the standard version, less 40 hours of recognised prior learning, never below "
        "187 (the funding rules for starts from 1 August 2025)"
    )
    assert minimum_otj(FROM_2025, _plan(published=312, prior=200)).hours == 187  # 312 - 200 = 112, below 187
    assert minimum_otj(FROM_2025, _plan(published=1531)).hours == 1531


def test_a_version_that_publishes_no_minimum_gets_the_floor():
    minimum = minimum_otj(FROM_2025, _plan(published=None))
    assert minimum.hours == 187
    assert "publishes no minimum, so the floor of 187 hours applies" in minimum.working


# 1 September 2024 to 1 September 2025 is 365 days: 365 / 7 = 52.142857 weeks, less statutory
# leave of 5.6 weeks a year (5.6 x 365 / 365 = 5.6) leaves 46.542857 weeks.
YEAR_2024 = {"start": date(2024, 9, 1), "end": date(2025, 9, 1)}


def test_from_august_2022_six_hours_a_week_full_time_over_the_weeks_after_leave():
    minimum = minimum_otj(BEFORE_2025, _plan(**YEAR_2024))  # no weekly hours: full-time
    assert minimum.hours == 279  # 6 x 46.542857 = 279.26
    assert minimum.working == (
        "6 hours a week (full-time) over 46.5 weeks of the practical period, after statutory leave: 279 hours "
        "(the funding rules for starts from 1 August 2022)"
    )
    assert minimum_otj(BEFORE_2025, _plan(**YEAR_2024, weekly=37.5)).hours == 279  # 30 or more is full-time
    assert minimum_otj(BEFORE_2025, _plan(**YEAR_2024, prior=30)).hours == 249  # 279 - 30


def test_from_august_2022_part_time_twenty_percent_of_the_hours():
    minimum = minimum_otj(BEFORE_2025, _plan(**YEAR_2024, weekly=20))
    assert minimum.hours == 186  # 0.2 x 20 x 46.542857 = 186.17
    assert minimum.working.startswith("20% of 20 hours a week (part-time) over 46.5 weeks")


def test_before_august_2022_twenty_percent_of_working_hours_counted_up_to_thirty():
    year = {"start": date(2020, 9, 1), "end": date(2021, 9, 1)}  # 365 days again: 46.542857 weeks
    assert minimum_otj(BEFORE_2022, _plan(**year, weekly=37.5)).hours == 279  # 0.2 x 30 x 46.542857 = 279.26
    assert minimum_otj(BEFORE_2022, _plan(**year, weekly=15)).hours == 140  # 0.2 x 15 x 46.542857 = 139.63
    assumed = minimum_otj(BEFORE_2022, _plan(**year))
    assert assumed.hours == 279 and "no weekly hours recorded: full-time assumed" in assumed.working


def test_the_minimum_durations_and_their_exceptions():
    assert add_calendar_months(date(2025, 9, 1), FROM_2025.minimum_months) == date(2026, 5, 1)
    assert add_calendar_months(date(2024, 8, 31), BEFORE_2025.minimum_months) == date(2025, 8, 31)
    assert {e.code for e in FROM_2025.exceptions} == {"redundancy", "transfer", "return_from_break"}
    assert FROM_2025.exception("transfer").label.startswith("A transfer")
    assert FROM_2025.exception("holiday") is None
    assert FROM_2025.review_weeks == BEFORE_2025.review_weeks == BEFORE_2022.review_weeks == 12


def test_the_assessment_organisation_is_recorded_6_months_before_the_planned_end_in_every_rule_set():
    assert {rules.epao_months_before_end for rules in RULES.all} == {6}
    # 6 calendar months before 28 September 2026 is 28 March 2026; before 31 August 2026, 28 February 2026
    assert FROM_2025.epao_required_from(date(2026, 9, 28)) == date(2026, 3, 28)
    assert FROM_2025.epao_required_from(date(2026, 8, 31)) == date(2026, 2, 28)
    assert BEFORE_2022.epao_required_from(date(2021, 7, 1)) == date(2021, 1, 1)


RULES_2025 = """\
funding_year: 2025 to 2026
starts_from: 2025-08-01
source: A provider's corrected copy
minimum_duration: {months: 8}
off_the_job: {rule: published_minimum, floor_hours: 200}
progress_reviews: {at_least_every_weeks: 12}
assessment_organisation: {recorded_months_before_planned_end: 6}
"""


def test_a_folder_of_rule_sets_replaces_a_funding_year_and_adds_others(tmp_path):
    (tmp_path / "2025-26.yaml").write_text(RULES_2025)
    (tmp_path / "2027-28.yaml").write_text(
        RULES_2025.replace("2025 to 2026", "2027 to 2028").replace("2025-08-01", "2027-08-01")
    )
    rules = load_rule_sets(tmp_path)
    assert [r.funding_year for r in rules.all] == ["2017 to 2018", "2022 to 2023", "2025 to 2026", "2026 to 2027",
                                                  "2027 to 2028"]  # fmt: skip
    replaced = rules.for_start(date(2025, 9, 1))
    assert replaced.source == "A provider's corrected copy" and replaced.off_the_job.floor_hours == 200
    assert minimum_otj(replaced, _plan()).hours == 200
    assert replaced.exceptions == () and replaced.adults_may_leave_out_english_and_maths_from is None
    assert rules.for_start(date(2028, 1, 1)).funding_year == "2027 to 2028"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("floor_hours: 200", "floor_hours: none"), "2025-26.yaml: floor_hours must be a whole number of 1 or more"),
        (("published_minimum", "a_tenth"), "2025-26.yaml: off_the_job.rule must be one of share_of_working_hours"),
        (("starts_from: 2025-08-01", "starts_from: August"), "2025-26.yaml: starts_from must be a date"),
        (("{months: 8}", "{months: 0}"), "2025-26.yaml: months must be a whole number of 1 or more"),
        (("source: A provider's corrected copy\n", ""), "2025-26.yaml: source must be some text"),
        (("{at_least_every_weeks: 12}", "{every: 12}"), "2025-26.yaml: at_least_every_weeks must be a whole number"),
        (("minimum_duration: {months: 8}", "minimum_duration: [8"), "2025-26.yaml: not valid YAML"),
        (
            ("{recorded_months_before_planned_end: 6}", "{months: 6}"),
            "2025-26.yaml: recorded_months_before_planned_end must be a whole number",
        ),
    ],
)
def test_a_bad_rule_set_is_refused_with_the_file_and_the_field(tmp_path, change, message):
    (tmp_path / "2025-26.yaml").write_text(RULES_2025.replace(*change))
    with pytest.raises(RulesError) as refused:
        load_rule_sets(tmp_path)
    assert str(refused.value).startswith(message)


def test_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(RulesError, match="not a folder of rule set files"):
        load_rule_sets(tmp_path / "nowhere")
