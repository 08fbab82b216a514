"""Two at once on PostgreSQL: the three parties signing at the same moment agree the scan once,
and two tutors changing a signed scan at once make one new version."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portfolio.core.domain import DomainError
from portfolio.extensions import db
from portfolio.models import AgreementSignature, AuditEvent, Enrolment, SkillsScan, User
from portfolio.training_plan import agreements
from portfolio.training_plan.skills_scan import SKILLS_SCAN, PriorLearningDetails, record_prior_learning, sign_scan

from .conftest import ready_scan


@pytest.fixture(autouse=True)
def postgresql(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks make transactions wait only on PostgreSQL; SQLite runs one writer at a time")


def _at_once(app, works) -> list:
    """Run each work(session) on a thread of its own, all released together; their DomainErrors."""
    barrier = threading.Barrier(len(works))
    errors: list = []

    def run(work):
        with app.app_context(), Session(db.engine) as session:
            barrier.wait()
            try:
                work(session)
                session.commit()
            except DomainError as error:
                session.rollback()
                errors.append(error)

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    return errors


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_three_parties_signing_at_once_agree_the_scan_once(app, scan_people):
    people = scan_people
    scan = ready_scan(people, hours=60, months=1)
    seen = agreements.content_fingerprint(SKILLS_SCAN, scan)
    scan_id = scan.id
    ids = [people[role].id for role in ("apprentice", "employer", "tutor")] * 2  # each party twice

    def signing(user_id):
        def work(session):
            sign_scan(session, session.get(SkillsScan, scan_id), by=session.get(User, user_id), seen=seen)

        return work

    errors = _at_once(app, [signing(user_id) for user_id in ids])
    assert len(errors) == 3 and all("already been signed" in e.message for e in errors)
    assert _count(AgreementSignature, AgreementSignature.skills_scan_id == scan_id) == 3
    enrolment = db.session.get(Enrolment, people["enrolment"].id)
    # Agreed once: 400 planned less 60 is 340, taken off once only.
    assert enrolment.planned_otj_hours == 340 and enrolment.prior_learning_otj_hours == 60
    assert _count(AuditEvent, AuditEvent.action == "enrolment.prior_learning_agreed") == 1
    assert db.session.get(SkillsScan, scan_id).agreed_at is not None


def test_two_tutors_changing_a_signed_scan_at_once_make_one_new_version(app, world, scan_people):
    people = scan_people
    scan = ready_scan(people)
    sign_scan(db.session, scan, by=people["apprentice"], seen=agreements.content_fingerprint(SKILLS_SCAN, scan))
    second_tutor = world.user(people["tutor"].role, people["tutor"].organisation)
    db.session.commit()
    enrolment_id = people["enrolment"].id

    def changing(user_id, hours):
        def work(session):
            details = PriorLearningDetails(hours=hours, months=0, items=[("K1", "The parish archive")])
            enrolment = session.get(Enrolment, enrolment_id)
            record_prior_learning(session, enrolment, by=session.get(User, user_id), details=details)

        return work

    errors = _at_once(app, [changing(people["tutor"].id, 30), changing(second_tutor.id, 20)])
    assert errors == []
    numbers = db.session.scalars(select(SkillsScan.number).where(SkillsScan.enrolment_id == enrolment_id)).all()
    assert sorted(numbers) == [1, 2]
    assert _count(AuditEvent, AuditEvent.action == "skills_scan.new_version") == 1
    assert _count(AuditEvent, AuditEvent.action == "skills_scan.prior_learning_recorded") == 3  # the first, then two
