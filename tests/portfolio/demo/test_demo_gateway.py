"""The demo's gateway: one apprentice ready for the declarations, one submitted to the demo
EPAO through the real gateway, waiting for the demo assessor."""

from __future__ import annotations

from sqlalchemy import select

from portfolio.demo.build import build_demo
from portfolio.extensions import db
from portfolio.gateway.domain import Standing, declaration_status, gateway_overview
from portfolio.home.todo import todo_list
from portfolio.models import Enrolment, EnrolmentStatus, GatewayOutcome, User

from ..conftest import sign_in

PASSWORD = "demo password 123"


def _enrolment_of(email: str) -> Enrolment:
    user = db.session.scalar(select(User).where(User.email == email))
    return db.session.scalar(select(Enrolment).where(Enrolment.apprentice_id == user.id))


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def test_the_demo_has_a_ready_apprentice_and_one_awaiting_the_assessor(app, client):
    build_demo(PASSWORD)
    db.session.commit()

    nadia = _enrolment_of("nadia.rahman@larkfield-playhouse.example")
    overview = gateway_overview(db.session, nadia)
    assert nadia.status is EnrolmentStatus.ON_PROGRAMME and overview.readiness.ready, overview.readiness.failing
    assert {s.standing for s in overview.declarations} == {Standing.MISSING} and overview.submissions == []

    jess = _enrolment_of("jess.okafor@harbourside-museum.example")
    overview = gateway_overview(db.session, jess)
    assert jess.status is EnrolmentStatus.AT_GATEWAY and overview.readiness.ready
    [submission] = overview.submissions
    assert submission.outcome is GatewayOutcome.PENDING and submission.epao.name == "Crescent Assessment Services"
    assert {s.standing for s in declaration_status(db.session, jess)} == {Standing.CURRENT}
    assert [c.to_status for c in jess.status_changes] == [EnrolmentStatus.ON_PROGRAMME, EnrolmentStatus.AT_GATEWAY]

    assessor = _user("marion.adebayo@crescent-assessment.example")
    todo = todo_list(db.session, assessor)
    assert todo.gateways_to_decide == 1 and todo.gateways_by_enrolment[0].enrolment_id == jess.id
    sign_in(client, assessor, PASSWORD)
    assert client.get(f"/enrolments/{jess.id}/gateway/decision").status_code == 200
    assert client.get(f"/enrolments/{nadia.id}/gateway").status_code == 404  # not submitted yet

    build_demo(PASSWORD)  # safe to run again
    db.session.commit()
    assert len(gateway_overview(db.session, jess).submissions) == 1
