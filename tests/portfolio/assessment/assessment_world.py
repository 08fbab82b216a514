"""An apprenticeship through the gateway to completion and into assessment, for the result's tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portfolio.assessment.domain import MethodOutcome
from portfolio.extensions import db
from portfolio.gateway.domain import GATEWAY_ITEMS, decide_gateway, submit_to_epao
from portfolio.models import EnrolmentStatus

from ..gateway_world import TODAY, Gateway, ready_enrolment, sign_all

ASSESSED_ON = TODAY - timedelta(days=3)


def into_assessment(world, **terms) -> Gateway:
    """A ready apprenticeship, submitted and signed off: in assessment with its assessment organisation."""
    gateway = ready_enrolment(world, **terms)
    sign_all(gateway)
    submission = submit_to_epao(db.session, gateway.enrolment, by=gateway.tutor, today=TODAY)
    decide_gateway(db.session, submission, by=gateway.assessor, decisions={c: (True, "") for c in GATEWAY_ITEMS})
    db.session.flush()
    assert gateway.enrolment.status is EnrolmentStatus.IN_EPA
    return gateway


def graded(*grades: str | None, on=ASSESSED_ON) -> dict[str, MethodOutcome]:
    """ST0396's two (placeholder) methods given these grades; None carries a pass over."""
    return {f"method_{n}": MethodOutcome(grade, on) for n, grade in enumerate(grades, start=1)}


@pytest.fixture
def assessed(world) -> Gateway:
    gateway = into_assessment(world)
    db.session.commit()
    return gateway
