"""Two at once on PostgreSQL: two tutors changing a signed training plan at once make one new
version holding both changes, and the three parties signing at the same moment agree it once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from portfolio.extensions import db
from portfolio.models import AgreementSignature, AuditEvent, Enrolment, TrainingPlan, User
from portfolio.training_plan import agreements
from portfolio.training_plan.plan import TRAINING_PLAN, ActivityDetails, add_activity, sign_plan

from .conftest import planned
from .test_skills_scan_concurrency import _at_once, _count, postgresql  # noqa: F401  (the skip)


def test_two_tutors_changing_a_signed_plan_at_once_make_one_new_version(app, world, plan_people):
    people = plan_people
    plan = planned(people)
    sign_plan(db.session, plan, by=people["apprentice"], seen=agreements.content_fingerprint(TRAINING_PLAN, plan))
    second_tutor = world.user(people["tutor"].role, people["tutor"].organisation)
    db.session.commit()
    enrolment_id = people["enrolment"].id

    def adding(user_id, description):
        def work(session):
            details = ActivityDetails(description, date(2026, 6, 1), date(2026, 6, 30), Decimal(10), [])
            add_activity(session, session.get(Enrolment, enrolment_id), by=session.get(User, user_id), details=details)

        return work

    errors = _at_once(app, [adding(people["tutor"].id, "Gallery talk"), adding(second_tutor.id, "Archive visit")])
    assert errors == []
    plans = db.session.scalars(select(TrainingPlan).where(TrainingPlan.enrolment_id == enrolment_id)).all()
    assert sorted(p.number for p in plans) == [1, 2]
    newest = max(plans, key=lambda p: p.number)
    # The signed version keeps its 2 activities; the new one has them and both additions.
    assert len(min(plans, key=lambda p: p.number).activities) == 2
    assert sorted(a.description for a in newest.activities[2:]) == ["Archive visit", "Gallery talk"]
    assert _count(AuditEvent, AuditEvent.action == "training_plan.new_version") == 1


def test_three_parties_signing_at_once_agree_the_plan_once(app, plan_people):
    people = plan_people
    plan = planned(people)
    seen = agreements.content_fingerprint(TRAINING_PLAN, plan)
    plan_id = plan.id
    ids = [people[role].id for role in ("apprentice", "employer", "tutor")] * 2  # each party twice

    def signing(user_id):
        def work(session):
            sign_plan(session, session.get(TrainingPlan, plan_id), by=session.get(User, user_id), seen=seen)

        return work

    errors = _at_once(app, [signing(user_id) for user_id in ids])
    assert len(errors) == 3 and all("already been signed" in e.message for e in errors)
    assert _count(AgreementSignature, AgreementSignature.training_plan_id == plan_id) == 3
    assert db.session.get(TrainingPlan, plan_id).agreed_at is not None
    signed = db.session.scalars(select(AuditEvent.after).where(AuditEvent.action == "training_plan.signed")).all()
    assert sum('"agreed":true' in after for after in signed) == 1
