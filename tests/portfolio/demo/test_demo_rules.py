"""The demo shows today's rules on its apprentices: a break in learning, progress reviews with the
content the rules ask for, the employer's verification of behaviours, and an apprenticeship
assessment with a failed first attempt and a passed resit."""

from __future__ import annotations

from sqlalchemy import select

from portfolio.assessment.domain import attempts_of
from portfolio.demo.build import build_demo
from portfolio.extensions import db
from portfolio.gateway.behaviours import verification_state
from portfolio.models import AttemptKind, Enrolment, EnrolmentStatus, ProgressReview, User


def _enrolment(name: str) -> Enrolment:
    return db.session.scalar(select(Enrolment).join(Enrolment.apprentice).where(User.name == name))


def test_the_demo_shows_each_of_todays_rules_on_its_apprentices(app):
    build_demo("demo password 123")
    db.session.commit()

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
