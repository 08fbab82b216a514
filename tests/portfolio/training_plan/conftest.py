"""An apprenticeship on ST9001 version 1.1 (four criteria; a published minimum of 280 off-the-job
hours) starting on 1 September 2025, under the rules for starts from 1 August 2025, with its
three parties and people unrelated to it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portfolio.enrolments.standard_versions import store_standard
from portfolio.extensions import db
from portfolio.models import Role, ScanRating
from portfolio.training_plan.plan import ActivityDetails, add_activity, set_english_maths_plan
from portfolio.training_plan.skills_scan import PriorLearningDetails, confirm, rate, record_prior_learning

from ..enrolments.test_funding_rules import FIXTURES

START = date(2025, 9, 1)
PLANNED_END = date(2026, 9, 28)
RATED = {
    "K1": (ScanRating.CONFIDENT, "Catalogued the parish archive as a volunteer"),
    "K2": (ScanRating.SOME, ""),
    "S1": (ScanRating.NEW, ""),
    "B1": (ScanRating.SOME, ""),
}


@pytest.fixture
def scan_people(world):
    version, _ = store_standard(db.session, (FIXTURES / "minimal.yaml").read_text(encoding="utf-8"))
    world.standard_version = lambda: version
    provider, employer = world.provider("Northgate Arts Training"), world.employer("Harbourside Museum")
    tutor = world.user(Role.TUTOR, provider, name="Priya Natarajan")
    mentor = world.user(Role.EMPLOYER, employer, name="Helen Osei")
    enrolment = world.enrolment(
        employer=employer, provider=provider, tutor=tutor, mentor=mentor, start=START,
        planned_end_date=PLANNED_END, planned_otj_hours=400,
    )  # fmt: skip
    other_provider = world.provider("Elsewhere College")
    people = {
        "enrolment": enrolment,
        "apprentice": enrolment.apprentice,
        "tutor": tutor,
        "employer": mentor,
        "other_tutor": world.user(Role.TUTOR, other_provider),
        "other_employer": world.user(Role.EMPLOYER, world.employer()),
        "other_apprentice": world.enrolment(provider=other_provider, start=START).apprentice,
        "assessor": world.user(Role.ASSESSOR, world.epao()),
        "admin": world.user(Role.ADMIN, provider),
    }
    db.session.commit()
    return people


def ready_scan(people, hours: int = 60, months: int = 1):
    """Rated, confirmed as rated, and the prior learning recorded: ready for the three to sign."""
    enrolment = people["enrolment"]
    rate(db.session, enrolment, by=people["apprentice"], ratings=RATED)
    confirm(db.session, enrolment, by=people["employer"], ratings=RATED)
    items = [("K1", "Two years cataloguing a parish archive, with the volunteer coordinator's reference")]
    details = PriorLearningDetails(hours=hours, months=months, items=items if hours or months else [])
    scan = record_prior_learning(db.session, enrolment, by=people["tutor"], details=details)
    db.session.commit()
    return scan


@pytest.fixture
def plan_people(world, scan_people):
    """The same apprenticeship with its assessment organisation recorded."""
    scan_people["enrolment"].epao = world.epao("Harbour Assessment Services")
    db.session.commit()
    return scan_people


ACTIVITIES = [
    # 1 October to 30 November 2025: 61 days; 1 December 2025 to 31 May 2026: 182 days.
    ("Object handling and documentation workshops", date(2025, 10, 1), date(2025, 11, 30), "61", "K1 S1"),
    ("Collections care study block", date(2025, 12, 1), date(2026, 5, 31), "182", "K2"),
]


def planned(people, activities=ACTIVITIES, english_maths: str = "Functional skills English at level 2 by March 2026"):
    """A plan of `activities` written by the tutor, not yet signed."""
    enrolment = people["enrolment"]
    for description, starts_on, ends_on, hours, codes in activities:
        details = ActivityDetails(description, starts_on, ends_on, Decimal(hours), codes.split())
        activity = add_activity(db.session, enrolment, by=people["tutor"], details=details)
    plan = set_english_maths_plan(db.session, enrolment, by=people["tutor"], text=english_maths)
    db.session.commit()
    assert activity.plan is plan
    return plan
