"""Reminders of the skills scan and the training plan awaiting signatures for more than
REMINDER_SIGNATURE_DAYS, on the apprenticeship of tests/portfolio/training_plan/conftest.py."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portfolio.extensions import db
from portfolio.models import Notification
from portfolio.models.types import utcnow
from portfolio.notifications.kinds import Kind
from portfolio.reminders.domain import ReminderSettings, send_reminders
from portfolio.training_plan import agreements
from portfolio.training_plan.plan import TRAINING_PLAN, sign_plan
from portfolio.training_plan.skills_scan import SKILLS_SCAN, rate, sign_scan
from tests.helpers import run_jobs

from ..conftest import counting_queries
from ..training_plan.conftest import PLANNED_END, RATED, START, plan_people, planned, ready_scan, scan_people

__all__ = ["plan_people", "scan_people"]  # the fixtures, used by name

SETTINGS = ReminderSettings()
DAY = timedelta(days=1)


@pytest.fixture
def app_config(mail_config):
    return mail_config


@pytest.fixture(autouse=True)
def mail_sent_before_the_database_is_emptied(app):
    yield
    run_jobs(app)


def send(now: datetime) -> Counter[Kind]:
    return send_reminders(db.session, SETTINGS, today=now.date(), now=now)


def reminded(document: str) -> list[Notification]:
    """The reminders of `document` ("skills-scan", "training-plan"), not the asks sent as it was made or signed."""
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.occasion.startswith(f"signature-awaited:{document}:"))
            .order_by(Notification.id)
        )
    )


def reminded_ids(document: str) -> Counter[int]:
    return Counter(notification.user_id for notification in reminded(document))


def sign_scan_by(scan, *people) -> None:
    for person in people:
        sign_scan(db.session, scan, by=person, seen=agreements.content_fingerprint(SKILLS_SCAN, scan))
    db.session.commit()


def sign_plan_by(plan, *people) -> None:
    for person in people:
        sign_plan(db.session, plan, by=person, seen=agreements.content_fingerprint(TRAINING_PLAN, plan))
    db.session.commit()


def test_a_skills_scan_ready_to_sign_for_over_n_days_reminds_the_parties_still_to_sign_once_a_period(scan_people):
    people = scan_people
    scan = ready_scan(people)
    sign_scan_by(scan, people["apprentice"])
    ready = utcnow()
    assert send(ready + 6 * DAY)[Kind.SIGNATURE_AWAITED] == 0  # not yet a week
    assert reminded("skills-scan") == []
    send(ready + 8 * DAY)
    assert reminded_ids("skills-scan") == {people["employer"].id: 1, people["tutor"].id: 1}
    notice = reminded("skills-scan")[0]
    enrolment = people["enrolment"]
    assert notice.title == f"The skills scan of {enrolment.apprentice.name} (version 1) awaits your signature"
    assert notice.link == f"/enrolments/{enrolment.id}/skills-scan"
    assert notice.enrolment_id == enrolment.id
    assert {n.occasion for n in reminded("skills-scan")} == {
        f"signature-awaited:skills-scan:{scan.id}:employer:1",
        f"signature-awaited:skills-scan:{scan.id}:provider:1",
    }
    send(ready + 10 * DAY)  # the same period of waiting
    assert len(reminded("skills-scan")) == 2
    sign_scan_by(scan, people["employer"])
    send(ready + 15 * DAY)  # the second period: the tutor only
    assert reminded_ids("skills-scan") == {people["employer"].id: 1, people["tutor"].id: 2}
    assert people["other_tutor"].id not in reminded_ids("skills-scan")


def test_a_skills_scan_not_ready_or_agreed_reminds_nobody(scan_people):
    people = scan_people
    rate(db.session, people["enrolment"], by=people["apprentice"], ratings=RATED)  # not confirmed yet
    db.session.commit()
    send(utcnow() + 8 * DAY)
    assert reminded("skills-scan") == []
    scan = ready_scan(people)
    sign_scan_by(scan, people["apprentice"], people["employer"], people["tutor"])
    assert scan.agreed_at is not None
    send(utcnow() + 30 * DAY)
    assert reminded("skills-scan") == []


def test_an_agreed_training_plan_reminds_nobody(plan_people):
    people = plan_people
    plan = planned(people)
    sign_plan_by(plan, people["apprentice"], people["employer"], people["tutor"])
    assert plan.agreed_at is not None
    send(utcnow() + 30 * DAY)
    assert reminded("training-plan") == []


def test_a_training_plan_awaiting_the_employer_after_n_days_reminds_the_employer(plan_people):
    people = plan_people
    plan = planned(people)
    sign_plan_by(plan, people["apprentice"], people["tutor"])
    send(utcnow() + 8 * DAY)
    assert reminded_ids("training-plan") == {people["employer"].id: 1}
    notice = reminded("training-plan")[0]
    enrolment = people["enrolment"]
    assert notice.title == f"The training plan of {enrolment.apprentice.name} (version 1) awaits your signature"
    assert notice.link == f"/enrolments/{enrolment.id}/training-plan"
    assert notice.occasion == f"signature-awaited:training-plan:{plan.id}:employer:1"
    assert send(utcnow() + 9 * DAY)[Kind.SIGNATURE_AWAITED] == 0


def test_only_the_current_version_is_reminded(plan_people):
    people = plan_people
    plan = planned(people)
    sign_plan_by(plan, people["apprentice"])
    changed = planned(people, english_maths="Functional skills English and maths at level 2 by June 2026")
    assert changed.number == 2
    send(utcnow() + 8 * DAY)
    assert {n.link for n in reminded("training-plan")} == {f"/enrolments/{people['enrolment'].id}/training-plan"}
    assert {n.occasion.split(":")[2] for n in reminded("training-plan")} == {str(changed.id)}
    assert len(reminded("training-plan")) == 3  # nobody has signed version 2


def _another_awaiting(world, people) -> None:
    """Another apprenticeship of the same people with a scan ready and a plan written, each signed
    by the apprentice only."""
    enrolment = world.enrolment(
        employer=people["employer"].organisation, provider=people["tutor"].organisation, tutor=people["tutor"],
        mentor=people["employer"], start=START, planned_end_date=PLANNED_END, planned_otj_hours=400,
        epao=people["enrolment"].epao,
    )  # fmt: skip
    db.session.commit()
    theirs = people | {"enrolment": enrolment, "apprentice": enrolment.apprentice}
    sign_scan_by(ready_scan(theirs), enrolment.apprentice)
    sign_plan_by(planned(theirs), enrolment.apprentice)


def test_the_agreement_reminders_take_the_same_queries_for_two_apprenticeships_as_for_six(world, plan_people):
    for _ in range(2):
        _another_awaiting(world, plan_people)
    now = utcnow() + 8 * DAY
    with counting_queries() as two:
        few = send(now)
    for _ in range(4):
        _another_awaiting(world, plan_people)
    with counting_queries() as six:
        many = send(now)
    assert len(reminded("skills-scan")) == len(reminded("training-plan")) == 6 * 2
    assert few[Kind.SIGNATURE_AWAITED] and many[Kind.SIGNATURE_AWAITED] == 2 * few[Kind.SIGNATURE_AWAITED]
    assert two() == six()
