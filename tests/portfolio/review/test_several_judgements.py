"""Judging several criteria of one apprentice in one form: all recorded in one transaction, or
none if one is wrong; one notification for the lot; for the apprentice's tutors only."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from portfolio.core import audit
from portfolio.core.domain import DomainError
from portfolio.extensions import db
from portfolio.models import AuditEvent, CriterionJudgement, Notification, Role
from portfolio.review.domain import current_judgements, record_judgements

from ..conftest import counting_queries, sign_in


@pytest.fixture
def museum(two_employers):
    return two_employers["museum_enrolment"]


@pytest.fixture
def tutor(two_employers):
    return two_employers["tutor"]


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_several_criteria_are_judged_at_once_with_one_event_each_and_one_notification(museum, tutor):
    made = record_judgements(
        db.session,
        museum,
        by=tutor,
        judgements={"K1": ("met", "Clear audience research."), "S4": ("developing", ""), "B2": ("not_yet", "")},
    )
    db.session.commit()
    assert [j.criterion_code for j in made] == ["K1", "S4", "B2"]
    current = current_judgements(db.session, museum)
    assert {code: j.level_code for code, j in current.items()} == {"K1": "met", "S4": "developing", "B2": "not_yet"}
    assert current["K1"].met and not current["S4"].met
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "judgement.recorded")).all()
    assert sorted(json.loads(e.after)["criterion_code"] for e in events) == ["B2", "K1", "S4"]
    assert {e.subject_id for e in events} == {j.id for j in made}
    assert audit.verify(db.session).ok  # the batch's events chain as single ones do
    [told] = db.session.scalars(select(Notification).where(Notification.user_id == museum.apprentice_id)).all()
    assert told.title == f"3 criteria judged by {tutor.name}: K1 Met, S4 Partly shown, B2 Not yet shown"


@pytest.mark.parametrize(
    "judgements, message, field",
    [
        ({"K1": ("met", ""), "S4": ("excellent", "")}, "S4: Choose a level", "S4-level"),
        ({"K1": ("met", ""), "S4": ("met", "x" * 5_000)}, "S4: The note must be", "S4-note"),
        ({"K1": ("met", ""), "Z99": ("met", "")}, "Z99 is not a criterion", None),
        ({}, "Choose a judgement for at least one criterion", None),
    ],
)
def test_one_wrong_judgement_records_none(museum, tutor, judgements, message, field):
    with pytest.raises(DomainError, match=message) as refused:
        record_judgements(db.session, museum, by=tutor, judgements=judgements)
    assert refused.value.field == field
    db.session.rollback()
    assert _count(CriterionJudgement) == 0


def test_the_page_judges_several_and_keeps_what_was_typed_when_one_is_wrong(client, museum, tutor):
    url = f"/enrolments/{museum.id}/judgements/several"
    sign_in(client, tutor)
    assert "Judge several criteria at once" in client.get(f"/enrolments/{museum.id}/judgements").get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    assert 'name="K1-level"' in page and "Leave as it is" in page
    response = client.post(url, data={"K1-level": "met", "K1-note": "Kept", "S4-level": "nonsense"})
    assert response.status_code == 200 and _count(CriterionJudgement) == 0
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and "Kept" in html
    response = client.post(url, data={"K1-level": "met", "K1-note": "Strong", "S4-level": "developing"})
    assert response.status_code == 302
    assert "2 criteria judged: K1, S4" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _count(CriterionJudgement) == 2
    response = client.post(url, data={})
    assert "Choose a judgement for at least one criterion" in response.get_data(as_text=True)


def test_judging_several_takes_the_same_queries_for_two_criteria_or_twenty(client, museum, tutor):
    url = f"/enrolments/{museum.id}/judgements/several"
    sign_in(client, tutor)
    standard = museum.standard_version.standard
    codes = [criterion.code for criterion in standard][:20]
    counts = []
    for chosen in (codes[:2], codes):
        with counting_queries() as count:
            assert client.post(url, data={f"{code}-level": "met" for code in chosen}).status_code == 302
        counts.append(count())
    assert _count(CriterionJudgement) == 22
    # Each judgement costs at most an INSERT and a read-back of its row (the flush hooks expire
    # it; PostgreSQL batches the INSERTs); the lock, the audit events and the notification are
    # the same few statements for any number.
    assert counts[1] - counts[0] <= 2 * 18, counts


@pytest.mark.parametrize("who", ["apprentice", "mentor", "other_tutor", "assessor"])
def test_only_the_apprentices_tutors_judge_several(client, world, museum, two_employers, who):
    people = {
        "apprentice": museum.apprentice,
        "mentor": two_employers["museum_mentor"],
        "other_tutor": world.user(Role.TUTOR, world.provider("Far College")),
        "assessor": world.user(Role.ASSESSOR, two_employers["epao"]),
    }
    db.session.commit()
    sign_in(client, people[who])
    url = f"/enrolments/{museum.id}/judgements/several"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"K1-level": "met"}).status_code == 404
    assert _count(CriterionJudgement) == 0
