"""The demo shows today's rules on its apprentices: skills scans with prior learning and training
plans agreed by the three at the start, a break in learning, progress reviews with the content the
rules ask for, the employer's verification of behaviours, and an apprenticeship
assessment with a failed first attempt and a passed resit."""

from __future__ import annotations

from sqlalchemy import select

from portfolio.assessment.domain import attempts_of
from portfolio.demo.build import build_demo
from portfolio.extensions import db
from portfolio.gateway.behaviours import verification_state
from portfolio.models import AttemptKind, Enrolment, EnrolmentStatus, ProgressReview, User
from portfolio.training_plan import agreements
from portfolio.training_plan.plan import TRAINING_PLAN, total_hours
from portfolio.training_plan.skills_scan import SKILLS_SCAN


def _enrolment(name: str) -> Enrolment:
    return db.session.scalar(select(Enrolment).join(Enrolment.apprentice).where(User.name == name))


def test_the_demo_shows_each_of_todays_rules_on_its_apprentices(app):
    build_demo("demo password 123")
    db.session.commit()

    amira = _enrolment("Amira Hassan")
    [scan] = agreements.versions(db.session, SKILLS_SCAN, amira.id)
    assert scan.agreed_at is not None and scan.prior_learning_hours == 20
    second, first = agreements.versions(db.session, TRAINING_PLAN, amira.id)  # newest first: changed since agreed
    assert first.agreed_at is not None and second.agreed_at is None and not second.signatures
    assert total_hours(first) == amira.planned_otj_hours  # the activities share out the planned hours
    callum = _enrolment("Callum Reid")  # his are still to do
    assert agreements.versions(db.session, SKILLS_SCAN, callum.id) == []
    assert agreements.versions(db.session, TRAINING_PLAN, callum.id) == []

    sam = _enrolment("Sam Patel")
    assert sam.status is EnrolmentStatus.BREAK_IN_LEARNING and sam.breaks[-1].returned_on is None

    reviews = db.session.scalars(
        select(ProgressReview).where(ProgressReview.enrolment_id == _enrolment("Amira Hassan").id)
    )
    assert all(r.concerns_and_changes and r.training_plan_changes and r.actions for r in reviews)

    for name in ("Jess Okafor", "Nadia Rahman", "Leah Brennan"):
        state = verification_state(db.session, _enrolment(name))
        assert state is not None and state.complete, name
    callum = verification_state(db.session, _enrolment("Callum Reid"))
    assert callum is not None and callum.verification is not None and callum.not_confirmed == ["B3", "B9"]

    leah = _enrolment("Leah Brennan")
    assert leah.status is EnrolmentStatus.COMPLETED
    first, resit = attempts_of(db.session, leah)
    assert (first.number, first.kind, first.grade, first.passed) == (1, AttemptKind.FIRST, "Fail", False)
    assert (resit.number, resit.kind, resit.grade, resit.passed) == (2, AttemptKind.RESIT, "Pass", True)
    carried = {m.method: m.carried_over for m in resit.methods}
    assert carried == {"method_1": True, "method_2": False}
