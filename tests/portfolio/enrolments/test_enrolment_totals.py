"""The stored totals follow every change to evidence, links, judgements and off-the-job entries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from portfolio.core.storage import evidence_store, max_upload_bytes
from portfolio.enrolments.totals import coverage_counts, otj_hours, recount_all
from portfolio.evidence.items import EvidenceDetails, criterion_statuses, delete_draft, submit, update_item, withdraw
from portfolio.extensions import db
from portfolio.models import EnrolmentCoverage, EnrolmentOtjHours, EvidenceKind, OtjActivity
from portfolio.otj.domain import (
    OtjDetails,
    approve_entries,
    approve_entry,
    delete_entry,
    log_entry,
    query_entry,
    update_entry,
)
from portfolio.review.domain import (
    Decision,
    WitnessTestimony,
    create_testimony,
    decide,
    record_judgement,
    sign_testimony,
)
from standard import Status

pytestmark = pytest.mark.one_transaction  # stays on db.session: rolled back, not emptied


@pytest.fixture
def museum(two_employers):
    return two_employers["museum_enrolment"]


def stored(enrolment) -> tuple[int, int, int]:
    row = db.session.get(EnrolmentCoverage, enrolment.id)
    return (row.evidenced, row.accepted, row.met) if row else (0, 0, 0)


def from_statuses(enrolment) -> tuple[int, int, int]:
    """The same figures from the apprentice's coverage page, criterion by criterion."""
    statuses = criterion_statuses(db.session, enrolment).values()
    return tuple(sum(1 for s in statuses if s >= level) for level in (Status.EVIDENCED, Status.ACCEPTED, Status.MET))


def expect(enrolment, figures: tuple[int, int, int]) -> None:
    db.session.commit()  # what another request would read
    db.session.expire_all()
    assert stored(enrolment) == figures == from_statuses(enrolment)


def accept(item, tutor, decision=Decision.ACCEPT, feedback=""):
    from portfolio.review.domain import start_review

    start_review(db.session, item, by=tutor)
    decide(db.session, item, by=tutor, decision=decision, feedback=feedback)


def test_counts_follow_the_life_of_the_evidence(world, museum, two_employers):
    tutor, mentor = two_employers["tutor"], two_employers["museum_mentor"]
    draft = world.evidence(museum, submitted=False, links={"K1": "Audience research."})
    expect(museum, (0, 0, 0))  # drafts count for nothing

    first = world.evidence(museum, links={"K1": "Audience research.", "S4": "Risk assessment."})
    expect(museum, (2, 0, 0))
    accept(first, tutor)
    expect(museum, (2, 2, 0))

    second = world.evidence(museum, links={"K1": "Again.", "K2": "Budget."})
    expect(museum, (3, 2, 0))
    accept(second, tutor, Decision.REFER, "Say which budget lines were yours.")
    expect(museum, (3, 2, 0))  # referred still counts as evidenced

    details = EvidenceDetails(
        title="Budget",
        kind=EvidenceKind.BUDGET,
        activity_date=museum.start_date,
        description="The workshop budget.",
        reflection="Costs came in under.",
        links={"K2": "Budget.", "K3": "Funding."},
    )
    update_item(
        db.session, evidence_store(), second, by=museum.apprentice, details=details, max_bytes=max_upload_bytes()
    )
    expect(museum, (4, 2, 0))  # a link changed on a referred item
    submit(second, by=museum.apprentice)
    withdraw(second, by=museum.apprentice, reason="Replaced by a better item.")
    expect(museum, (2, 2, 0))

    record_judgement(db.session, museum, by=tutor, code="B1", level_code="met", note="Seen often.")
    expect(museum, (3, 3, 1))
    record_judgement(db.session, museum, by=tutor, code="B1", level_code="developing", note="Second look.")
    expect(museum, (2, 2, 0))  # only the newest judgement counts

    testimony = create_testimony(
        db.session,
        enrolment=museum,
        author=mentor,
        testimony=WitnessTestimony(
            title="The lantern parade",
            activity_date=date(2025, 10, 4),
            text="I watched the apprentice brief the stewards.",
            links={"S5": "Briefed the stewards."},
        ),
        today=date(2026, 1, 1),
    )
    expect(museum, (2, 2, 0))
    sign_testimony(db.session, testimony, by=mentor, signed_name="Helen Osei", job_title="Learning manager")
    expect(museum, (3, 2, 0))

    delete_draft(db.session, draft, by=museum.apprentice)
    expect(museum, (3, 2, 0))
    assert stored(two_employers["theatre_enrolment"]) == (0, 0, 0)  # only the changed enrolment


def test_a_change_after_a_commit_is_counted_although_the_item_was_expired(world, museum, two_employers):
    item = world.evidence(museum, submitted=False, links={"K1": "Audience research."})
    db.session.commit()  # expires every loaded attribute, the item's enrolment id too
    submit(item, by=museum.apprentice)
    expect(museum, (1, 0, 0))


def hours(enrolment) -> tuple[Decimal, Decimal]:
    db.session.commit()
    db.session.expire_all()
    row = db.session.get(EnrolmentOtjHours, enrolment.id)
    stored = (row.logged, row.approved) if row else (Decimal(0), Decimal(0))
    live = db.session.execute(otj_hours([enrolment.id])).one_or_none()
    assert stored == ((live.logged, live.approved) if live else (0, 0))
    return stored


def test_off_the_job_hours_follow_every_entry(museum, two_employers):
    tutor, apprentice = two_employers["tutor"], museum.apprentice

    def training(hours: str) -> OtjDetails:
        return OtjDetails(
            activity_date=museum.start_date, hours=Decimal(hours), activity=OtjActivity.WORKSHOP, learning="Handling."
        )

    today = date(2026, 1, 1)
    first = log_entry(db.session, enrolment=museum, by=apprentice, details=training("3.5"), today=today)
    second = log_entry(db.session, enrolment=museum, by=apprentice, details=training("2"), today=today)
    third = log_entry(db.session, enrolment=museum, by=apprentice, details=training("1.25"), today=today)
    assert hours(museum) == (Decimal("6.75"), Decimal(0))
    approve_entry(db.session, first, by=tutor)
    assert hours(museum) == (Decimal("6.75"), Decimal("3.5"))
    query_entry(db.session, second, by=tutor, note="Which workshop?")
    update_entry(db.session, second, by=apprentice, details=training("2.5"), today=today)
    assert hours(museum) == (Decimal("7.25"), Decimal("3.5"))
    approve_entries(db.session, museum, [second.id], by=tutor)
    assert hours(museum) == (Decimal("7.25"), Decimal("6"))
    delete_entry(db.session, third, by=apprentice)
    assert hours(museum) == (Decimal("6"), Decimal("6"))
    assert hours(two_employers["theatre_enrolment"]) == (0, 0)


def test_recount_all_repairs_the_table_and_matches_the_live_counts(world, museum, two_employers):
    world.evidence(museum, links={"K1": "a", "S4": "b"})
    world.evidence(two_employers["theatre_enrolment"], links={"K2": "c"})
    db.session.commit()
    live = {
        row.enrolment_id: (row.evidenced, row.accepted, row.met)
        for row in db.session.execute(coverage_counts([museum.id]))
    }
    db.session.execute(EnrolmentCoverage.__table__.delete())
    recount_all(db.session)
    db.session.commit()
    rows = db.session.execute(select(EnrolmentCoverage)).scalars().all()
    assert {(r.enrolment_id, r.evidenced) for r in rows} == {
        (museum.id, 2),
        (two_employers["theatre_enrolment"].id, 1),
    }
    assert stored(museum) == live[museum.id]
