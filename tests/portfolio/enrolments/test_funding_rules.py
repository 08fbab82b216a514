"""Enrolling under the funding rules of the start date: off-the-job minimums, the minimum
duration and its exceptions, and English and maths, on both sides of 1 August 2025; each figure
worked out by hand. Then the pages that show them, the admin form and `portfolio enrol`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from portfolio.core.domain import DomainError
from portfolio.core.rules import funding_summary
from portfolio.enrolments.standard_versions import store_standard
from portfolio.extensions import db
from portfolio.models import AgeBand, Role

from ..conftest import sign_in

FIXTURES = Path(__file__).parents[2] / "standard" / "fixtures"
SEPTEMBER_2025 = date(2025, 9, 1)  # the rules for starts from 1 August 2025
SEPTEMBER_2024 = date(2024, 9, 1)  # the rules for starts from 1 August 2022


def _refusal(world, **terms) -> DomainError:
    with pytest.raises(DomainError) as refused:
        world.enrolment(**terms)
    return refused.value


# From 1 August 2025 ----------------------------------------------------------------------------


def test_ten_hours_over_eight_and_a_half_months_from_september_2025_is_refused_naming_the_rule(world):
    # ST0396 version 1.0 publishes no minimum hours: the floor of 187 applies.
    refused = _refusal(world, start=SEPTEMBER_2025, planned_end_date=date(2026, 5, 15), planned_otj_hours=10)
    assert refused.field == "planned_otj_hours"
    assert refused.message == (
        "Planned off-the-job hours must be at least 187: the standard version publishes no minimum, so the "
        "floor of 187 hours applies (the funding rules for starts from 1 August 2025)"
    )
    enrolment = world.enrolment(start=SEPTEMBER_2025, planned_end_date=date(2026, 5, 15), planned_otj_hours=187)
    assert enrolment.planned_otj_hours == 187


@pytest.fixture
def archive_world(world):
    """`enrol(**terms)` on ST9001 version 1.1, which publishes a minimum of 280 hours."""
    version, _ = store_standard(db.session, (FIXTURES / "minimal.yaml").read_text(encoding="utf-8"))
    world.standard_version = lambda: version
    return world


def test_a_published_minimum_less_prior_learning_is_the_floor_of_the_plan(archive_world):
    world = archive_world
    # ST9001 version 1.1 publishes 280 hours; 60 hours of prior learning leave 280 - 60 = 220.
    terms = dict(start=SEPTEMBER_2025, prior_learning_otj_hours=60)
    refused = _refusal(world, planned_otj_hours=219, **terms)
    assert refused.message == (
        "Planned off-the-job hours must be at least 220: 280 hours published for the standard version, less 60 "
        "hours of recognised prior learning, never below 187 (the funding rules for starts from 1 August 2025)"
    )
    assert world.enrolment(planned_otj_hours=220, **terms).prior_learning_otj_hours == 60
    # 150 hours of prior learning would leave 130: the floor of 187 holds.
    assert (
        "at least 187:" in _refusal(world, planned_otj_hours=186, **terms | {"prior_learning_otj_hours": 150}).message
    )


def test_from_august_2025_the_minimum_duration_is_eight_months_unless_an_exception_applies(world):
    # 1 September 2025 + 8 months = 1 May 2026.
    refused = _refusal(world, start=SEPTEMBER_2025, planned_end_date=date(2026, 4, 30))
    assert (refused.field, refused.message) == (
        "planned_end_date",
        "The planned end date must be on or after 1 May 2026: the funding rules for starts from 1 August 2025 "
        "set a minimum duration of 8 months, unless one of their exceptions applies",
    )
    assert world.enrolment(start=SEPTEMBER_2025, planned_end_date=date(2026, 5, 1)).planned_end_date == date(2026, 5, 1)
    transfer = world.enrolment(start=SEPTEMBER_2025, planned_end_date=date(2026, 3, 1), duration_exception="transfer")
    summary = funding_summary(transfer)
    assert summary.minimum_months == 6  # the planned 6 months, not 8
    assert summary.months_source == (
        "the funding rules for starts from 1 August 2025, with the exception: a transfer to a newer version of the "
        "standard, or between providers"
    )
    assert _refusal(world, start=SEPTEMBER_2025, duration_exception="holiday").field == "duration_exception"


# Before 1 August 2025 ---------------------------------------------------------------------------


def test_from_august_2022_six_hours_a_week_full_time_and_twenty_percent_part_time(world):
    # 1 September 2024 to 1 September 2025: 365 days, 52.142857 weeks, less 5.6 weeks of statutory
    # leave = 46.542857 weeks; 6 x 46.542857 = 279.26, so 279 hours.
    year = dict(start=SEPTEMBER_2024, planned_end_date=date(2025, 9, 1))
    refused = _refusal(world, planned_otj_hours=278, **year)
    assert refused.message == (
        "Planned off-the-job hours must be at least 279: 6 hours a week (full-time) over 46.5 weeks of the "
        "practical period, after statutory leave: 279 hours (the funding rules for starts from 1 August 2022)"
    )
    assert world.enrolment(planned_otj_hours=279, **year).planned_otj_hours == 279
    # Part-time, 20 hours a week: 0.2 x 20 x 46.542857 = 186.17, so 186 hours.
    part_time = dict(year, contracted_weekly_hours=Decimal(20))
    assert (
        "at least 186: 20% of 20 hours a week (part-time)"
        in _refusal(world, planned_otj_hours=185, **part_time).message
    )
    assert world.enrolment(planned_otj_hours=186, **part_time).contracted_weekly_hours == Decimal(20)


def test_before_august_2025_the_minimum_duration_is_twelve_months(world):
    # 1 September 2024 + 12 months = 1 September 2025; 8 months would have been enough a year later.
    refused = _refusal(world, start=SEPTEMBER_2024, planned_end_date=date(2025, 8, 31), planned_otj_hours=400)
    assert refused.message.startswith("The planned end date must be on or after 1 September 2025: the funding rules "
                                      "for starts from 1 August 2022 set a minimum duration of 12 months")  # fmt: skip


# English and maths -----------------------------------------------------------------------------


def test_sixteen_to_eighteen_year_olds_must_achieve_english_and_maths(world):
    refused = _refusal(world, age_band=AgeBand.AGED_16_TO_18, english_maths_route="not_required",
                       english_maths_decided_on=SEPTEMBER_2025, english_maths_agreed_by="The employer")  # fmt: skip
    assert refused.message == "Apprentices aged 16 to 18 at the start must achieve English and maths"


def test_an_adult_leaves_english_and_maths_out_by_a_decision_with_its_date_and_who_agreed(world):
    adult = dict(age_band=AgeBand.AGED_24_PLUS, english_maths_route="not_required", start=SEPTEMBER_2024,
                 planned_end_date=date(2025, 9, 1), planned_otj_hours=300)  # fmt: skip
    refused = _refusal(world, english_maths_decided_on=SEPTEMBER_2024, english_maths_agreed_by="Jo (employer)", **adult)
    assert (refused.field, refused.message) == (
        "english_maths_decided_on",
        "An apprentice aged 19 or over may leave English and maths out by a decision made on or after "
        "11 February 2025: enter its date",
    )
    refused = _refusal(world, english_maths_decided_on=date(2025, 2, 11), english_maths_agreed_by="  ", **adult)
    assert refused.field == "english_maths_agreed_by"
    enrolment = world.enrolment(english_maths_decided_on=date(2025, 2, 11), english_maths_agreed_by=" Jo Park (employer) "
                                " and the apprentice", **adult)  # fmt: skip
    assert enrolment.english_maths_agreed_by == "Jo Park (employer) and the apprentice"


# The pages, the form and the command ------------------------------------------------------------


def test_the_enrolment_pages_say_which_rules_and_figures_apply(app, world, client):
    enrolment = world.enrolment(start=SEPTEMBER_2024, planned_end_date=date(2025, 9, 1), planned_otj_hours=300,
                                prior_learning_otj_hours=30)  # fmt: skip
    db.session.commit()
    sign_in(client, enrolment.apprentice)
    page = client.get(f"/enrolments/{enrolment.id}").get_data(as_text=True)
    assert "This apprenticeship follows the funding rules for starts from 1 August 2022" in page
    assert "12 months (the funding rules for starts from 1 August 2022)" in page
    # 279 - 30 hours of prior learning = 249.
    assert "249 hours: 6 hours a week (full-time) over 46.5 weeks" in page and "less 30 hours of recognised" in page
    assert "Not recorded (full-time assumed)" in page
    otj = client.get(f"/enrolments/{enrolment.id}/otj").get_data(as_text=True)
    assert "Minimum under the funding rules" in otj and "249 hours: 6 hours a week (full-time)" in otj


def test_the_enrol_command_refuses_a_plan_below_the_rules_naming_the_rule_and_the_figure(runner, world):
    provider, employer = world.provider("Northgate Arts Training"), world.employer("Harbourside Museum")
    world.user(Role.APPRENTICE, employer, email="amira@harbourside.example")
    db.session.commit()
    assert runner.invoke(args=["standard", "load", "ST0396"]).exit_code == 0
    args = ["enrol", "amira@harbourside.example", "--standard", "ST0396", "--provider", provider.name,
            "--start", "2025-09-01", "--end", "2026-05-15", "--age-band", "19-23", "--english-maths", "achieved"]  # fmt: skip
    refused = runner.invoke(args=[*args, "--otj-hours", "10"])
    assert refused.exit_code == 1
    assert "Planned off-the-job hours must be at least 187" in refused.output
    assert "(the funding rules for starts from 1 August 2025)" in refused.output
    accepted = runner.invoke(args=[*args, "--otj-hours", "187"])
    assert accepted.exit_code == 0, accepted.output


def test_a_rules_folder_replaces_a_funding_year_and_a_bad_one_stops_the_start(tmp_path, database_url):
    from portfolio import create_app
    from portfolio.config import BadSetting
    from portfolio.core.rules import rules_for

    folder = tmp_path / "rules"
    folder.mkdir()
    shipped = Path(__file__).parents[3] / "funding_rules" / "rule_sets" / "2025-26.yaml"
    (folder / "2025-26.yaml").write_text(shipped.read_text().replace("floor_hours: 187", "floor_hours: 200"))
    settings = {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test", "FUNDING_RULES_DIR": str(folder)}
    app = create_app(settings, instance_path=str(tmp_path / "instance"))
    with app.app_context():
        assert rules_for(SEPTEMBER_2025).off_the_job.floor_hours == 200
        assert rules_for(SEPTEMBER_2024).off_the_job.hours_a_week == 6  # the shipped years stay
    (folder / "2025-26.yaml").write_text(shipped.read_text().replace("starts_from: 2025-08-01", "starts_from: soon"))
    with pytest.raises(BadSetting, match=r"^PORTFOLIO_FUNDING_RULES_DIR: 2025-26.yaml: starts_from must be a date"):
        create_app(settings, instance_path=str(tmp_path / "instance"))
