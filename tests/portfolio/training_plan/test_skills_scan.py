"""The skills scan's rules, worked out by hand: who does each step and in which order, what the
prior learning does to the plan and when the funding rules refuse it, the signatures and their
fingerprints, and new versions after a signature."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portfolio.core.domain import DomainError
from portfolio.core.fingerprint import fingerprint
from portfolio.enrolments.domain import current_terms, update_terms
from portfolio.extensions import db
from portfolio.models import AuditEvent, Notification, ScanRating, SkillsScan
from portfolio.training_plan import agreements
from portfolio.training_plan.skills_scan import (
    SKILLS_SCAN,
    PriorLearningDetails,
    confirm,
    rate,
    record_prior_learning,
    sign_scan,
    snapshot,
    status_text,
)

from .conftest import PLANNED_END, RATED, ready_scan


def _sign(scan, person):
    return sign_scan(db.session, scan, by=person, seen=agreements.content_fingerprint(SKILLS_SCAN, scan))


def _sign_all(people, scan):
    for role in ("apprentice", "employer", "tutor"):
        _sign(scan, people[role])
    db.session.commit()


def _actions(name: str) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == name)) or 0


def test_agreeing_the_scan_takes_the_prior_learning_off_the_plan(scan_people):
    people = scan_people
    enrolment = people["enrolment"]
    scan = ready_scan(people, hours=60, months=1)
    assert status_text(scan) == "Awaiting signatures"
    _sign_all(people, scan)
    assert scan.agreed_at is not None and status_text(scan) == "Agreed"
    # 400 planned hours less 60 of prior learning: 340; the minimum is 280 published less 60 = 220.
    assert enrolment.prior_learning_otj_hours == 60
    assert enrolment.planned_otj_hours == 340
    # One month off the planned end of 28 September 2026: 28 August 2026.
    assert enrolment.planned_end_date == date(2026, 8, 28)
    assert (scan.planned_otj_before, scan.planned_otj_after) == (400, 340)
    assert (scan.planned_end_before, scan.planned_end_after) == (PLANNED_END, date(2026, 8, 28))
    assert _actions("enrolment.prior_learning_agreed") == 1 and _actions("skills_scan.signed") == 3


def test_prior_learning_that_would_take_the_minimum_below_the_floor_is_refused_naming_the_rule(scan_people):
    people = scan_people
    enrolment = people["enrolment"]
    rate(db.session, enrolment, by=people["apprentice"], ratings=RATED)
    confirm(db.session, enrolment, by=people["employer"], ratings=RATED)
    # 400 planned less 250 of prior learning leaves 150; 280 published less 250 is 30, never below
    # the floor of 187: the minimum is 187, and 150 falls short of it.
    details = PriorLearningDetails(hours=250, months=0, items=[("Collections", "A degree in archive studies")])
    with pytest.raises(DomainError) as refused:
        record_prior_learning(db.session, enrolment, by=people["tutor"], details=details)
    assert refused.value.field == "hours"
    assert "the planned off-the-job hours would be 150" in refused.value.message
    assert (
        "Planned off-the-job hours must be at least 187: 280 hours published for the standard version, less 250 "
        "hours of recognised prior learning, never below 187 (the funding rules for starts from 1 August 2025)"
    ) in refused.value.message
    # 200 hours leave 400 - 200 = 200 planned, above the minimum of max(187, 280 - 200 = 80) = 187.
    details = PriorLearningDetails(hours=200, months=0, items=[("Collections", "A degree in archive studies")])
    assert record_prior_learning(db.session, enrolment, by=people["tutor"], details=details).prior_learning_hours == 200


def test_months_off_the_duration_may_not_take_it_below_the_rules_minimum(scan_people):
    people = scan_people
    enrolment = people["enrolment"]
    rate(db.session, enrolment, by=people["apprentice"], ratings=RATED)
    confirm(db.session, enrolment, by=people["employer"], ratings=RATED)
    # From 1 September 2025 the minimum is 8 months: an end on or after 1 May 2026. Five months off
    # 28 September 2026 is 28 April 2026, too early; four months is 28 May 2026.
    details = PriorLearningDetails(hours=0, months=5, items=[("S1", "Ran the museum's cataloguing project")])
    with pytest.raises(DomainError) as refused:
        record_prior_learning(db.session, enrolment, by=people["tutor"], details=details)
    assert refused.value.field == "months"
    assert "minimum duration of 8 months" in refused.value.message and "1 May 2026" in refused.value.message
    details = PriorLearningDetails(hours=0, months=4, items=[("S1", "Ran the museum's cataloguing project")])
    record_prior_learning(db.session, enrolment, by=people["tutor"], details=details)


def test_the_rules_are_checked_again_when_the_third_party_signs(scan_people):
    people = scan_people
    enrolment = people["enrolment"]
    scan = ready_scan(people, hours=100, months=0)
    _sign(scan, people["apprentice"])
    _sign(scan, people["employer"])
    # Meanwhile the planned hours were lowered to 280. Less 100 of prior learning, 180 would be left,
    # below the minimum: 280 published less 100 is 180, never below the floor of 187, so 187.
    terms = current_terms(enrolment)
    update_terms(enrolment, type(terms)(**vars(terms) | {"planned_otj_hours": 280}))
    with pytest.raises(DomainError) as refused:
        _sign(scan, people["tutor"])
    assert "at least 187" in refused.value.message
    db.session.rollback()
    assert db.session.get(SkillsScan, scan.id).agreed_at is None


def test_each_step_in_its_order_and_by_its_party(scan_people):
    people = scan_people
    enrolment = people["enrolment"]
    with pytest.raises(DomainError, match="has not rated"):
        confirm(db.session, enrolment, by=people["employer"], ratings=RATED)
    with pytest.raises(DomainError, match="Only the apprentice"):
        rate(db.session, enrolment, by=people["employer"], ratings=RATED)
    with pytest.raises(DomainError, match="Choose how much of K2"):
        rate(db.session, enrolment, by=people["apprentice"], ratings={"K1": RATED["K1"]})
    scan = rate(db.session, enrolment, by=people["apprentice"], ratings=RATED)
    assert status_text(scan) == "Awaiting the employer's confirmation"
    with pytest.raises(DomainError, match="Only the apprentice's employer"):
        confirm(db.session, enrolment, by=people["tutor"], ratings=RATED)
    with pytest.raises(DomainError, match="has not confirmed"):
        record_prior_learning(db.session, enrolment, by=people["tutor"], details=PriorLearningDetails(0, 0))
    with pytest.raises(DomainError, match="Awaiting the employer"):
        _sign(scan, people["apprentice"])
    adjusted = RATED | {"S1": (ScanRating.SOME, "Has run two small projects here")}
    confirm(db.session, enrolment, by=people["employer"], ratings=adjusted)
    assert {r.criterion_code: r.employer_rating for r in scan.ratings}["S1"] is ScanRating.SOME
    # The apprentice changing a rating asks the employer to confirm again.
    rate(db.session, enrolment, by=people["apprentice"], ratings=RATED | {"B1": (ScanRating.CONFIDENT, "")})
    assert scan.confirmed_at is None and status_text(scan) == "Awaiting the employer's confirmation"
    with pytest.raises(DomainError, match="Only a tutor"):
        record_prior_learning(db.session, enrolment, by=people["other_tutor"], details=PriorLearningDetails(0, 0))


def test_hours_without_a_reason_and_reasons_against_unknown_subjects_are_refused(scan_people):
    people = scan_people
    enrolment = people["enrolment"]
    rate(db.session, enrolment, by=people["apprentice"], ratings=RATED)
    confirm(db.session, enrolment, by=people["employer"], ratings=RATED)
    tutor = people["tutor"]
    with pytest.raises(DomainError, match="Give the reason"):
        record_prior_learning(db.session, enrolment, by=tutor, details=PriorLearningDetails(20, 0))
    with pytest.raises(DomainError, match="Choose a criterion or an area"):
        record_prior_learning(db.session, enrolment, by=tutor, details=PriorLearningDetails(20, 0, [("K99", "x")]))
    with pytest.raises(DomainError, match="Say why"):
        record_prior_learning(db.session, enrolment, by=tutor, details=PriorLearningDetails(20, 0, [("K1", " ")]))
    scan = record_prior_learning(db.session, enrolment, by=tutor, details=PriorLearningDetails(0, 0))
    assert status_text(scan) == "Awaiting signatures" and scan.prior_learning == []


def test_a_signature_records_the_fingerprint_of_exactly_what_was_signed(scan_people):
    people = scan_people
    scan = ready_scan(people)
    with pytest.raises(DomainError, match="changed since you opened it"):
        sign_scan(db.session, scan, by=people["apprentice"], seen="0" * 64)
    signature = _sign(scan, people["apprentice"])
    assert signature.fingerprint == fingerprint(snapshot(scan))
    assert snapshot(scan)["prior_learning"]["hours"] == 60
    with pytest.raises(DomainError, match="already been signed for the apprentice"):
        _sign(scan, people["apprentice"])
    with pytest.raises(DomainError, match="cannot sign"):
        _sign(scan, people["other_tutor"])


def test_a_change_after_a_signature_makes_a_new_version_and_keeps_the_signed_one(scan_people):
    people = scan_people
    enrolment = people["enrolment"]
    first = ready_scan(people, hours=60, months=1)
    signed = _sign(first, people["apprentice"])
    db.session.commit()
    details = PriorLearningDetails(hours=40, months=0, items=[("K1", "The parish archive, two years")])
    second = record_prior_learning(db.session, enrolment, by=people["tutor"], details=details)
    db.session.commit()
    assert (first.number, second.number) == (1, 2) and second is not first
    assert [s.id for s in first.signatures] == [signed.id] and second.signatures == []
    assert first.prior_learning_hours == 60 and second.prior_learning_hours == 40
    assert {r.criterion_code: r.rating for r in second.ratings} == {c: r for c, (r, _) in RATED.items()}
    assert second.confirmed_at is not None  # the ratings did not change
    with pytest.raises(DomainError, match="not the current version"):
        _sign(first, people["employer"])
    _sign_all(people, second)
    assert enrolment.planned_otj_hours == 360 and enrolment.planned_end_date == PLANNED_END
    assert _actions("skills_scan.new_version") == 1
    # A change after agreement makes a third version; agreeing it takes off only what is new:
    # 40 hours were taken off already, so 50 take off 10 more (360 - 10 = 350); 2 months, 2 more.
    details = PriorLearningDetails(hours=50, months=2, items=[("K1", "The parish archive, and a short course")])
    third = record_prior_learning(db.session, enrolment, by=people["tutor"], details=details)
    _sign_all(people, third)
    assert third.number == 3 and enrolment.planned_otj_hours == 350
    assert enrolment.planned_end_date == date(2026, 7, 28)


def test_each_signature_asks_those_still_to_sign_once(scan_people):
    people = scan_people
    scan = ready_scan(people)

    def told(person) -> int:
        return db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == person.id, Notification.title.like("Sign the skills scan%")
            )
        )

    assert (told(people["apprentice"]), told(people["employer"]), told(people["tutor"])) == (1, 1, 0)
    _sign(scan, people["apprentice"])
    db.session.commit()
    # The employer was told already; the tutor, who recorded the prior learning, now is.
    assert (told(people["apprentice"]), told(people["employer"]), told(people["tutor"])) == (1, 1, 1)


def test_once_agreed_the_prior_learning_hours_come_from_the_scan(scan_people):
    people = scan_people
    enrolment = people["enrolment"]
    _sign_all(people, ready_scan(people, hours=60, months=0))
    terms = current_terms(enrolment)
    with pytest.raises(DomainError, match="come from the agreed skills scan"):
        update_terms(enrolment, type(terms)(**vars(terms) | {"prior_learning_otj_hours": 10}))
