"""Decisions per criterion: within one item a reviewer accepts some criteria and refers others
back, each with its own feedback; the item follows from its criteria, coverage counts each
criterion on its own, a changed claim is decided again, and the history is kept."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portfolio.core.domain import DomainError
from portfolio.core.storage import evidence_store
from portfolio.enrolments.totals import coverage_counts
from portfolio.evidence.items import EvidenceDetails, criterion_statuses, submit, update_item
from portfolio.extensions import db
from portfolio.models import CriterionDecision, EvidenceKind, EvidenceStatus, LinkDecision
from portfolio.review.domain import Decision, decide, start_review
from standard import Status

from ..conftest import sign_in

LINKS = {"K1": "Audience research.", "K5": "Budget.", "S4": "Risk assessment."}


@pytest.fixture
def museum(two_employers):
    return two_employers["museum_enrolment"]


@pytest.fixture
def tutor(two_employers):
    return two_employers["tutor"]


def _decide_each(item, tutor, **criteria):
    start_review(db.session, item, by=tutor)
    decide(db.session, item, by=tutor, criteria=criteria)


def test_accepting_two_criteria_and_referring_one_refers_the_item_and_counts_each(world, museum, tutor):
    item = world.evidence(museum, links=LINKS)
    _decide_each(
        item,
        tutor,
        K1=(Decision.ACCEPT, ""),
        K5=(Decision.ACCEPT, "Clear costs."),
        S4=(Decision.REFER, "Add the control measures."),
    )
    assert item.status is EvidenceStatus.REFERRED
    decisions = {link.criterion_code: (link.decision, link.feedback) for link in item.links}
    assert decisions == {
        "K1": (LinkDecision.ACCEPTED, ""),
        "K5": (LinkDecision.ACCEPTED, "Clear costs."),
        "S4": (LinkDecision.REFERRED, "Add the control measures."),
    }
    assert (
        item.history[-1].note
        == "K1: accepted\nK5: accepted. Clear costs.\nS4: referred back. Add the control measures."
    )
    # K1 and K5 count as accepted although the item is referred back; S4 as evidenced.
    statuses = criterion_statuses(db.session, museum)
    assert (statuses["K1"], statuses["K5"], statuses["S4"]) == (Status.ACCEPTED, Status.ACCEPTED, Status.EVIDENCED)
    db.session.flush()
    [(_, evidenced, accepted, met)] = db.session.execute(coverage_counts([museum.id])).all()
    assert (evidenced, accepted, met) == (3, 2, 0)  # the stored totals by the same rule


def test_the_resubmission_keeps_what_was_accepted_and_all_accepted_accepts_the_item(world, museum, tutor):
    item = world.evidence(museum, links=LINKS)
    _decide_each(item, tutor, K1=(Decision.ACCEPT, ""), K5=(Decision.ACCEPT, ""), S4=(Decision.REFER, "Say more."))
    # The apprentice changes the S4 claim only: K1 and K5 keep their acceptance, S4 is decided again.
    details = EvidenceDetails(
        title=item.title,
        kind=EvidenceKind.EVENT_PLAN,
        activity_date=item.activity_date,
        description=item.description,
        reflection=item.reflection,
        links={**LINKS, "S4": "Risk assessment with control measures."},
    )
    update_item(db.session, evidence_store(), item, by=museum.apprentice, details=details, max_bytes=10**6)
    assert {link.criterion_code: link.decision for link in item.links} == {
        "K1": LinkDecision.ACCEPTED,
        "K5": LinkDecision.ACCEPTED,
        "S4": None,
    }
    submit(item, by=museum.apprentice)
    _decide_each(item, tutor, K1=(Decision.ACCEPT, ""), K5=(Decision.ACCEPT, ""), S4=(Decision.ACCEPT, "Thanks."))
    assert item.status is EvidenceStatus.ACCEPTED and item.reviewer is None
    history = db.session.scalars(select(CriterionDecision).order_by(CriterionDecision.id)).all()
    assert [(d.criterion_code, d.decision, d.attempt) for d in history] == [
        ("K1", LinkDecision.ACCEPTED, 1),
        ("K5", LinkDecision.ACCEPTED, 1),
        ("S4", LinkDecision.REFERRED, 1),
        ("K1", LinkDecision.ACCEPTED, 2),
        ("K5", LinkDecision.ACCEPTED, 2),
        ("S4", LinkDecision.ACCEPTED, 2),
    ]


@pytest.mark.parametrize(
    "criteria, message, field",
    [
        ({"K1": (Decision.ACCEPT, ""), "K5": (Decision.ACCEPT, "")}, "S4: Choose whether to accept S4", "S4-decision"),
        (
            {"K1": (Decision.ACCEPT, ""), "K5": (Decision.ACCEPT, ""), "S4": (Decision.REFER, " ")},
            "S4: Give feedback",
            "S4-feedback",
        ),
        (
            {
                "K1": (Decision.ACCEPT, ""),
                "K5": (Decision.ACCEPT, ""),
                "S4": (Decision.ACCEPT, ""),
                "B9": (Decision.ACCEPT, ""),
            },
            "does not claim B9",
            None,
        ),
    ],
)
def test_a_decision_missing_or_without_feedback_decides_nothing(world, museum, tutor, criteria, message, field):
    item = world.evidence(museum, links=LINKS)
    start_review(db.session, item, by=tutor)
    with pytest.raises(DomainError, match=message) as refused:
        decide(db.session, item, by=tutor, criteria=criteria)
    assert refused.value.field == field
    assert item.status is EvidenceStatus.SUBMITTED and all(link.decision is None for link in item.links)


def test_the_page_decides_each_criterion(client, world, museum, tutor):
    item = world.evidence(museum, links=LINKS)
    start_review(db.session, item, by=tutor)
    db.session.commit()
    url = f"/enrolments/{museum.id}/evidence/{item.id}"
    sign_in(client, tutor)
    page = client.get(url).get_data(as_text=True)
    assert "Decide each criterion" in page and 'name="S4-decision"' in page
    data = {"decision": "each", "K1-decision": "accept", "K5-decision": "accept", "S4-decision": "refer"}
    response = client.post(f"{url}/review/decide", data=data)
    assert response.status_code == 200  # S4 needs its feedback: shown on the form
    assert "S4: Give feedback that says what the apprentice needs to change" in response.get_data(as_text=True)
    response = client.post(f"{url}/review/decide", data={**data, "S4-feedback": "Add the control measures."})
    assert response.status_code == 302
    db.session.expire_all()
    page = client.get(url).get_data(as_text=True)
    assert "S4: referred back. Add the control measures." in page  # the feedback banner
    assert {link.criterion_code: link.decision for link in item.links}["S4"] is LinkDecision.REFERRED
    # The whole-item choices still decide every criterion at once.
    other = world.evidence(museum, links=LINKS)
    start_review(db.session, other, by=tutor)
    db.session.commit()
    assert (
        client.post(
            f"/enrolments/{museum.id}/evidence/{other.id}/review/decide", data={"decision": "accept"}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert {link.decision for link in other.links} == {LinkDecision.ACCEPTED}
