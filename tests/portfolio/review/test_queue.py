"""The review queue at a tutor's scale: their own apprentices first, resubmissions back to the
tutor who referred them, filters with counts, the waiting time, and giving a review to another."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portfolio.core.domain import DomainError
from portfolio.core.wording import waiting_text
from portfolio.evidence.items import submit
from portfolio.extensions import db
from portfolio.models import AuditEvent, EvidenceItem, EvidenceStatus, Notification, Role
from portfolio.review.domain import Decision, decide, reassign_review, reviewers_to_give, start_review
from portfolio.review.queue import QueueFilters, previous_feedback, queue_counts, review_queue

from ..conftest import counting_queries, sign_in


@pytest.fixture
def provider_world(world, two_employers):
    """Two tutors of one provider: Nadia tutors the museum's apprentice, Owen the playhouse's."""
    nadia = two_employers["tutor"]
    owen = world.user(Role.TUTOR, two_employers["provider"], name="Owen Pritchard")
    theatre = two_employers["theatre_enrolment"]
    theatre.tutor = owen
    db.session.commit()
    return {"nadia": nadia, "owen": owen, "museum": two_employers["museum_enrolment"], "theatre": theatre}


def _titles(tutor, filters: QueueFilters | None = None) -> list[str]:
    return [item.title for item in db.session.scalars(review_queue(tutor, filters or QueueFilters()))]


def _refer(item, tutor, feedback="Add the risk assessment's control measures."):
    start_review(db.session, item, by=tutor)
    decide(db.session, item, by=tutor, decision=Decision.REFER, feedback=feedback)


def _resubmit(item):
    submit(item, by=item.enrolment.apprentice)
    db.session.flush()


# Resubmissions ------------------------------------------------------------------------------


def test_a_resubmission_counts_its_attempt_and_goes_back_to_the_tutor_who_referred_it(world, provider_world):
    nadia, owen, museum = provider_world["nadia"], provider_world["owen"], provider_world["museum"]
    item = world.evidence(museum, title="Risk assessment")
    assert item.attempt == 1 and item.reviewer is None
    _refer(item, nadia)
    assert (item.status, item.reviewer, item.review_started_at) == (EvidenceStatus.REFERRED, nadia, None)
    _resubmit(item)
    assert item.attempt == 2 and item.reviewer == nadia and item.review_started_at is None
    # Another tutor finds it waiting for Nadia: only taking it over lets them decide it.
    with pytest.raises(DomainError, match="goes back to .*who referred it"):
        start_review(db.session, item, by=owen)
    with pytest.raises(DomainError, match="Start the review"):
        decide(db.session, item, by=nadia, decision=Decision.ACCEPT)
    start_review(db.session, item, by=nadia)
    assert item.review_started_at is not None
    decide(db.session, item, by=nadia, decision=Decision.ACCEPT)
    assert (item.status, item.reviewer, item.attempt) == (EvidenceStatus.ACCEPTED, None, 2)
    # Its latest referral is the previous feedback the queue shows.
    assert previous_feedback(db.session, [item])[item.id].note == "Add the risk assessment's control measures."


def test_the_tutor_who_referred_it_may_be_taken_over(world, provider_world):
    nadia, owen = provider_world["nadia"], provider_world["owen"]
    item = world.evidence(provider_world["museum"])
    _refer(item, nadia)
    _resubmit(item)
    start_review(db.session, item, by=owen, take_over=True)
    assert item.reviewer == owen and item.review_started_at is not None


def test_a_review_is_given_to_another_tutor_of_the_provider(world, provider_world, two_employers):
    nadia, owen, museum = provider_world["nadia"], provider_world["owen"], provider_world["museum"]
    item = world.evidence(museum, title="Family day plan")
    _refer(item, nadia)
    _resubmit(item)
    assert reviewers_to_give(db.session, item, by=nadia) == [owen]
    reassign_review(db.session, item, by=nadia, to=owen)
    assert item.reviewer == owen and item.review_started_at is None
    assert reviewers_to_give(db.session, item, by=nadia) == []  # Owen has it; Nadia starts it to take it back
    assert reviewers_to_give(db.session, item, by=owen) == [nadia]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "evidence.review_reassigned")).one()
    assert (json.loads(event.before), json.loads(event.after)) == ({"reviewer": nadia.name}, {"reviewer": owen.name})
    told = db.session.scalars(select(Notification).where(Notification.user_id == owen.id)).all()
    assert [n.title for n in told] == [f"{nadia.name} gave you the review of Family day plan"]
    # Nobody outside the provider, and not the apprentice who wrote it.
    outsider = world.user(Role.TUTOR, world.provider("Westmoor College"))
    for to in (outsider, museum.apprentice, two_employers["museum_mentor"]):
        with pytest.raises(DomainError, match="Choose a tutor"):
            reassign_review(db.session, item, by=nadia, to=to)
    with pytest.raises(DomainError, match="cannot review"):
        reassign_review(db.session, item, by=outsider, to=nadia)
    start_review(db.session, item, by=owen)
    decide(db.session, item, by=owen, decision=Decision.ACCEPT)
    with pytest.raises(DomainError, match="not waiting for review"):
        reassign_review(db.session, item, by=nadia, to=owen)


# Filters and counts -------------------------------------------------------------------------


@pytest.fixture
def queue(world, provider_world):
    """Four items of the museum's apprentice (Nadia's), two of the playhouse's (Owen's); one
    of each is a resubmission, and they were submitted an hour apart, the first 6 hours ago."""
    museum, theatre, nadia, owen = (provider_world[k] for k in ("museum", "theatre", "nadia", "owen"))
    made = {}
    for title, enrolment, links in (
        ("M1", museum, {"K1": "a", "S4": "b"}),
        ("M2", museum, {"K1": "a"}),
        ("M3", museum, {"S4": "b"}),
        ("M4", museum, {"B2": "c"}),
        ("T1", theatre, {"K1": "a"}),
        ("T2", theatre, {"K10": "a", "K2": "b"}),
    ):
        made[title] = world.evidence(enrolment, title=title, links=links, files={})
    for title, tutor in (("M3", nadia), ("T2", owen)):
        _refer(made[title], tutor)
        _resubmit(made[title])
    start = datetime.now(UTC) - timedelta(hours=6)
    for n, title in enumerate(("M1", "T1", "M2", "T2", "M3", "M4")):
        made[title].submitted_at = start + timedelta(hours=n)
    db.session.commit()
    return made


def test_the_queue_filters_by_tutor_apprentice_employer_criterion_and_resubmission(
    queue, provider_world, two_employers
):
    nadia, owen, museum = provider_world["nadia"], provider_world["owen"], provider_world["museum"]
    assert _titles(nadia) == ["M1", "T1", "M2", "T2", "M3", "M4"]  # the longest waiting first
    assert _titles(nadia, QueueFilters(newest_first=True)) == ["M4", "M3", "T2", "M2", "T1", "M1"]
    assert _titles(nadia, QueueFilters(tutor=nadia.id)) == ["M1", "M2", "M3", "M4"]
    assert _titles(nadia, QueueFilters(tutor=owen.id)) == ["T1", "T2"]
    assert _titles(nadia, QueueFilters(apprentice=museum.apprentice_id, criterion="K1")) == ["M1", "M2"]
    assert _titles(nadia, QueueFilters(employer=two_employers["theatre"].id)) == ["T1", "T2"]
    assert _titles(nadia, QueueFilters(resubmission=True)) == ["T2", "M3"]
    assert _titles(owen, QueueFilters(tutor=owen.id, criterion="S4")) == []


def test_each_filter_counts_what_it_would_show_given_the_others(queue, provider_world, two_employers):
    nadia, owen = provider_world["nadia"], provider_world["owen"]
    museum_employer, theatre_employer = two_employers["museum"].id, two_employers["theatre"].id
    counts = queue_counts(db.session, nadia, QueueFilters(tutor=nadia.id))
    assert counts.total == 4  # M1-M4
    # The tutor counts leave the tutor filter out: Nadia's 4, Owen's 2.
    assert (counts.of("tutor", nadia.id), counts.of("tutor", owen.id)) == (4, 2)
    # The others count within Nadia's: M1, M2 claim K1; M1, M3 claim S4; M4 B2; M3 is resubmitted.
    assert dict(counts.by["criterion"]) == {"K1": 2, "S4": 2, "B2": 1}
    assert (counts.of("employer", museum_employer), counts.of("employer", theatre_employer)) == (4, 0)
    assert counts.of("resubmission", True) == 1
    # Choosing a criterion narrows the other counts to the items claiming it.
    counts = queue_counts(db.session, nadia, QueueFilters(criterion="K1"))
    assert counts.total == 3  # M1, M2, T1
    assert (counts.of("tutor", nadia.id), counts.of("tutor", owen.id)) == (2, 1)
    assert dict(counts.by["criterion"]) == {"K1": 3, "S4": 2, "B2": 1, "K2": 1, "K10": 1}
    counts = queue_counts(db.session, nadia, QueueFilters(resubmission=True))
    assert counts.total == 2 and counts.of("employer", theatre_employer) == 1
    assert counts.of("resubmission", True) == 2 and counts.of("resubmission", False) == 4


def test_waiting_is_written_rounded_down():
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    cases = {
        timedelta(minutes=59): "under an hour",
        timedelta(hours=1, minutes=59): "1 hour",
        timedelta(hours=47): "47 hours",
        timedelta(hours=48): "2 days",
        timedelta(days=20, hours=23): "20 days",
        timedelta(days=21): "3 weeks",
        timedelta(days=70): "10 weeks",
    }
    for waited, text in cases.items():
        assert waiting_text(now - waited, now) == text
    assert waiting_text((now - timedelta(hours=5)).replace(tzinfo=None), now) == "5 hours"  # as SQLite gives it


# The page -------------------------------------------------------------------------------------


def _page(client, **query) -> str:
    response = client.get("/review", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_page_shows_mine_by_default_with_waiting_times_counts_and_previous_feedback(client, queue, provider_world):
    nadia, owen = provider_world["nadia"], provider_world["owen"]
    sign_in(client, nadia)
    html = _page(client)
    assert "4 items to review" in html and "T1" not in html
    assert html.index(">M1<") < html.index(">M2<") < html.index(">M3<")
    assert "6 hours" in html and "Resubmission, attempt 2" in html
    assert "Add the risk assessment&#39;s control measures." in html  # M3's previous feedback
    assert "My apprentices (4)" in html and "Owen Pritchard&#39;s apprentices (2)" in html
    assert "Any tutor (6)" in html and "Resubmissions only (1)" in html and ">K1 (2)<" in html
    assert "who referred it, not started" in html  # M3 waits for Nadia
    html = _page(client, tutor="", sort="newest")
    assert "6 items to review" in html and html.index(">M4<") < html.index(">T1<") < html.index(">M1<")
    assert 'aria-sort="descending"' in html
    html = _page(client, tutor=owen.id, resubmissions="1")
    assert "1 item to review" in html and ">T2<" in html


def test_a_tutor_with_no_apprentices_waiting_is_offered_the_providers_queue(client, world, queue, two_employers):
    lead = world.user(Role.TUTOR, two_employers["provider"], name="Priya Lead")
    db.session.commit()
    sign_in(client, lead)
    html = _page(client)
    assert "None of your apprentices' evidence waits for review" in html
    assert "Show the 6 items waiting for your provider" in html


def test_hostile_filters_are_ignored(client, queue, provider_world):
    sign_in(client, provider_world["nadia"])
    for query in (
        {"tutor": "abc"},
        {"tutor": "99999999999999999999"},
        {"criterion": "<script>"},
        {"criterion": "K" * 500},
        {"resubmissions": "yes"},
        {"sort": "\x00"},
        {"apprentice": "-3", "employer": "0"},
    ):
        assert "items to review" in _page(client, **query), query


def test_the_queue_page_issues_the_same_queries_at_5_and_500_items(app, client, world, provider_world):
    museum, theatre, nadia = provider_world["museum"], provider_world["theatre"], provider_world["nadia"]
    app.config["PAGE_SIZE"] = 2  # so that both sizes have a second page
    sign_in(client, nadia)
    counts = []
    for size in (5, 495):
        for n in range(size):
            item = world.evidence(
                museum if n % 2 else theatre, title=f"Item {n}", files={}, links={f"K{n % 3 + 1}": "x"}
            )
            if n % 5 == 0:
                _refer(item, nadia)
                _resubmit(item)
        db.session.commit()
        row = []
        for query in ({}, {"tutor": "", "page": 2}, {"tutor": "", "resubmissions": "1", "criterion": "K1"}):
            with counting_queries() as count:
                _page(client, **query)
            row.append(count())
        counts.append(row)
    assert counts[0] == counts[1], counts
    assert max(counts[0]) <= 10, counts


def test_the_item_page_gives_the_review_to_another_tutor(client, world, provider_world):
    nadia, owen, museum = provider_world["nadia"], provider_world["owen"], provider_world["museum"]
    item = world.evidence(museum, title="Gallery trail")
    db.session.commit()
    url = f"/enrolments/{museum.id}/evidence/{item.id}"
    sign_in(client, nadia)
    html = client.get(url).get_data(as_text=True)
    assert "Give the review to" in html and "Owen Pritchard" in html
    for bad in ("", "abc", str(nadia.id), str(museum.apprentice_id), "99999999999999999999"):
        response = client.post(f"{url}/review/reassign", data={"reviewer": bad}, follow_redirects=True)
        assert response.status_code == 200
        assert "Choose a tutor of the apprentice" in response.get_data(as_text=True), bad
    response = client.post(f"{url}/review/reassign", data={"reviewer": owen.id}, follow_redirects=True)
    assert "Owen Pritchard will review this evidence" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(EvidenceItem, item.id).reviewer_id == owen.id
    # Only a tutor of the provider reaches the form at all.
    for outsider in (museum.apprentice, world.user(Role.TUTOR, world.provider("Westmoor College"))):
        db.session.commit()
        client.post("/sign-out")
        sign_in(client, outsider)
        assert client.post(f"{url}/review/reassign", data={"reviewer": nadia.id}).status_code == 404
