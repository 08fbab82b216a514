"""Two assessors record the same attempt at once: it is recorded once, and the other is told who
recorded it. On PostgreSQL only: SQLite runs one writer at a time whatever the code does."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from portfolio.extensions import db
from portfolio.models import AssessmentAttempt, AuditEvent, EnrolmentStatus, EnrolmentStatusChange, Role

from ..conftest import sign_in
from .assessment_world import into_assessment
from .test_assessment_pages import form


@pytest.fixture(autouse=True)
def postgresql(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks make transactions wait only on PostgreSQL; SQLite runs one writer at a time")


def _count(statement) -> int:
    return db.session.scalar(statement) or 0


@pytest.mark.parametrize("overall", ["Pass", "Fail"])
def test_two_assessors_recording_attempt_one_at_once_record_it_once(app, world, overall):
    gateway = into_assessment(world)
    colleague = world.user(Role.ASSESSOR, gateway.enrolment.epao, name="Priya Nair")
    db.session.commit()
    url = f"/enrolments/{gateway.enrolment.id}/assessment/result"
    data = form("Pass", "Pass" if overall == "Pass" else "Fail", overall)
    clients = []
    for user in (gateway.assessor, colleague):
        client = app.test_client()
        assert sign_in(client, user).status_code == 302
        clients.append(client)
    barrier = threading.Barrier(len(clients))

    def post(client):
        with app.app_context():
            barrier.wait()
            response = client.post(url, data=data)
            assert response.status_code == 302, response.get_data(as_text=True)
            page = client.get(response.headers["Location"]).get_data(as_text=True)
            return " ".join(re.sub(r"<[^>]+>", " ", page).split())

    with ThreadPoolExecutor(len(clients)) as pool:
        pages = list(pool.map(post, clients))
    db.session.expire_all()
    enrolment_id = gateway.enrolment.id
    assert _count(select(func.count(AssessmentAttempt.id)).where(AssessmentAttempt.enrolment_id == enrolment_id)) == 1
    assert _count(select(func.count(AuditEvent.id)).where(AuditEvent.action == "assessment.recorded")) == 1
    recorded = [page for page in pages if f"Attempt 1 recorded: {overall}" in page]
    told = [page for page in pages if "Attempt 1 has already been recorded, by " in page]
    assert len(recorded) == 1 and len(told) == 1, pages
    assert "Nothing was changed" in told[0]
    completed = select(func.count(EnrolmentStatusChange.id)).where(
        EnrolmentStatusChange.enrolment_id == enrolment_id, EnrolmentStatusChange.to_status == EnrolmentStatus.COMPLETED
    )
    assert _count(completed) == (1 if overall == "Pass" else 0)
