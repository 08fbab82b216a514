"""The training plan's rules, tested on the domain functions: the planned hours to date (by hand),
the activities' checks, the hours against the planned off-the-job hours, the assessment
organisation's 6 months on both sides of the boundary, signing and versions, and the prior
learning and review schedule the plan shows."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from hashlib import sha256

import pytest
from sqlalchemy import func, select, text

from funding_rules import add_calendar_months
from portfolio.core import clock
from portfolio.core.audit import canonical_json
from portfolio.core.domain import DomainError
from portfolio.extensions import db
from portfolio.models import AuditEvent, Notification, TrainingPlan
from portfolio.training_plan import agreements
from portfolio.training_plan.plan import (
    TRAINING_PLAN,
    ActivityDetails,
    add_activity,
    epao_refusal,
    hours_warning,
    planned_hours_by,
    prior_learning_result,
    remove_activity,
    review_dates,
    set_english_maths_plan,
    shown_facts,
    sign_plan,
    status_text,
    update_activity,
)
from portfolio.training_plan.skills_scan import SKILLS_SCAN, sign_scan

from .conftest import PLANNED_END, START, planned, ready_scan

D = Decimal


def _sign(plan, person):
    return sign_plan(db.session, plan, by=person, seen=agreements.content_fingerprint(TRAINING_PLAN, plan))


def _sign_all(people, plan):
    for role in ("apprentice", "employer", "tutor"):
        _sign(plan, people[role])
    db.session.commit()


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


# ---------------------------------------------------------------------------------------------
# The planned hours to date: pure arithmetic


def test_planned_hours_to_date_spread_each_activity_evenly_over_its_days():
    workshops = (date(2025, 10, 1), date(2025, 10, 10), D(20))  # 10 days, 2 hours a day
    study = (date(2025, 10, 6), date(2025, 10, 9), D(6))  # 4 days, 1.5 hours a day
    assert planned_hours_by([workshops, study], date(2025, 9, 30)) == D("0.00")  # before either starts
    assert planned_hours_by([workshops, study], date(2025, 10, 1)) == D("2.00")  # its first day counts
    # 5 October: 5 days of workshops = 10 hours; study not started
    assert planned_hours_by([workshops, study], date(2025, 10, 5)) == D("10.00")
    # 7 October: 7 x 2 = 14, plus 2 days of study x 1.5 = 3: 17
    assert planned_hours_by([workshops, study], date(2025, 10, 7)) == D("17.00")
    # After both end: all of 20 + 6
    assert planned_hours_by([workshops, study], date(2026, 1, 1)) == D("26.00")
    # 10 hours over 3 days, after 1 day: 3.333... rounds to 3.33; after 2: 6.67
    thirds = [(date(2025, 10, 1), date(2025, 10, 3), D(10))]
    assert planned_hours_by(thirds, date(2025, 10, 1)) == D("3.33")
    assert planned_hours_by(thirds, date(2025, 10, 2)) == D("6.67")
    one_day = [(date(2025, 11, 3), date(2025, 11, 3), D("7.5"))]
    assert planned_hours_by(one_day, date(2025, 11, 2)) == D("0.00")
    assert planned_hours_by(one_day, date(2025, 11, 3)) == D("7.50")
    assert planned_hours_by([], date(2025, 11, 3)) == D("0.00")


# ---------------------------------------------------------------------------------------------
# The assessment organisation: no later than 6 months before the planned end


def test_without_an_assessment_organisation_signing_is_refused_from_6_months_before_the_planned_end(scan_people):
    enrolment = scan_people["enrolment"]
    assert enrolment.epao is None
    # Planned end 28 September 2026: 6 months before is 28 March 2026.
    assert epao_refusal(enrolment, date(2026, 3, 27)) is None  # 6 months and a day away: still time
    refusal = epao_refusal(enrolment, date(2026, 3, 28))  # exactly 6 months away: too late
    assert refusal == (
        "Record the assessment organisation (EPAO) before signing: the funding rules for starts from 1 August 2025 "
        "want it recorded no later than 6 months before the planned end, 28 September 2026, that is by 28 March 2026"
    )
    assert epao_refusal(enrolment, date(2026, 9, 1)) == refusal


def test_the_signature_itself_is_refused_or_accepted_either_side_of_the_boundary(world, scan_people, monkeypatch):
    people = scan_people
    plan = planned(people)
    today = clock.today()
    # Today is exactly 6 months before the planned end: refused, naming the rule.
    people["enrolment"].planned_end_date = add_calendar_months(today, 6)
    db.session.commit()
    with pytest.raises(DomainError, match="no later than 6 months before the planned end"):
        _sign(plan, people["apprentice"])
    db.session.rollback()
    assert status_text(plan) == "Awaiting the assessment organisation"
    # One day more than 6 months away: the plan may be signed without one (the page still flags it).
    people["enrolment"].planned_end_date = add_calendar_months(today, 6) + timedelta(days=1)
    db.session.commit()
    _sign(plan, people["apprentice"])
    db.session.commit()
    assert [s.signer.value for s in plan.signatures] == ["apprentice"]
    # And with one recorded, whatever the date: the plan's content changed, so a new version is needed.
    people["enrolment"].epao = world.epao("Harbour Assessment Services")
    people["enrolment"].planned_end_date = PLANNED_END
    db.session.commit()
    with pytest.raises(DomainError, match="has changed since it was first signed"):
        _sign(plan, people["employer"])


# ---------------------------------------------------------------------------------------------
# Activities and the hours


def test_the_activities_hours_are_compared_with_the_planned_off_the_job_hours(plan_people):
    plan = planned(plan_people)
    # 61 + 182 = 243 hours planned in activities, against 400 planned: 157 fewer. A warning, not a refusal.
    assert hours_warning(plan) == (
        "The planned activities add up to 243 hours, 157 hours fewer than the apprenticeship's planned "
        "off-the-job hours (400 hours)"
    )
    details = ActivityDetails("Exhibition project", date(2026, 6, 1), date(2026, 9, 28), D("157"), ["S1", "B1"])
    add_activity(db.session, plan_people["enrolment"], by=plan_people["tutor"], details=details)
    assert hours_warning(plan) is None  # 243 + 157 = 400
    details = ActivityDetails("Conference", date(2026, 9, 1), date(2026, 9, 2), D("12.5"), [])
    add_activity(db.session, plan_people["enrolment"], by=plan_people["tutor"], details=details)
    assert "412.5 hours, 12.5 hours more than" in hours_warning(plan)  # 400 + 12.5


@pytest.mark.parametrize(
    ("change", "message", "field"),
    [
        ({"description": "  "}, "Describe the activity", "description"),
        ({"starts_on": None}, "Enter the date the activity starts", "starts_on"),
        (
            {"starts_on": date(2025, 8, 31)},
            "on or after the start of the apprenticeship, 1 September 2025",
            "starts_on",
        ),
        ({"ends_on": date(2026, 9, 29)}, "on or before the planned end, 28 September 2026", "ends_on"),
        (
            {"starts_on": date(2025, 10, 2), "ends_on": date(2025, 10, 1)},
            "end on or after the day it starts",
            "ends_on",
        ),
        ({"hours": D(0)}, "more than 0 and at most 5,000", "hours"),
        ({"hours": D("5000.01")}, "more than 0 and at most 5,000", "hours"),
        ({"hours": D("1.255")}, "at most 2 decimal places", "hours"),
        ({"hours": None}, "Enter the hours as a number", "hours"),
        ({"criteria": ["K9"]}, "K9 is not a criterion of ST9001", "criteria"),
    ],
)
def test_an_activity_is_refused_with_the_reason(plan_people, change, message, field):
    fields = {"description": "Workshop", "starts_on": date(2025, 10, 1), "ends_on": date(2025, 10, 1),
              "hours": D(7), "criteria": ["K1"]} | change  # fmt: skip
    with pytest.raises(DomainError, match=message) as refused:
        add_activity(db.session, plan_people["enrolment"], by=plan_people["tutor"], details=ActivityDetails(**fields))
    assert refused.value.field == field
    db.session.rollback()
    assert _count(TrainingPlan) == 0


def test_only_a_tutor_of_the_provider_writes_the_plan(plan_people):
    details = ActivityDetails("Workshop", date(2025, 10, 1), date(2025, 10, 1), D(7))
    for role in ("apprentice", "employer", "other_tutor", "admin"):
        with pytest.raises(DomainError, match="Only a tutor of the training provider"):
            add_activity(db.session, plan_people["enrolment"], by=plan_people[role], details=details)
        db.session.rollback()


def test_an_empty_plan_cannot_be_signed(plan_people):
    plan = set_english_maths_plan(db.session, plan_people["enrolment"], by=plan_people["tutor"], text="Level 2")
    assert status_text(plan) == "Awaiting the planned activities"
    with pytest.raises(DomainError, match="Add the planned off-the-job activities"):
        _sign(plan, plan_people["tutor"])


# ---------------------------------------------------------------------------------------------
# Signatures and versions


def test_three_signatures_agree_the_plan_and_each_keeps_its_fingerprint(plan_people):
    plan = planned(plan_people)
    seen = agreements.content_fingerprint(TRAINING_PLAN, plan)
    with pytest.raises(DomainError, match="changed since you opened it"):
        sign_plan(db.session, plan, by=plan_people["apprentice"], seen="0" * 64)
    db.session.rollback()
    _sign_all(plan_people, plan)
    assert plan.agreed_at is not None and status_text(plan) == "Agreed"
    assert {s.fingerprint for s in plan.signatures} == {seen}
    assert _count(AuditEvent, AuditEvent.action == "training_plan.signed") == 3
    with pytest.raises(DomainError, match="already been signed for the apprentice"):
        _sign(plan, plan_people["apprentice"])


def test_each_signature_keeps_exactly_what_was_signed_and_a_changed_record_fails_the_check(plan_people):
    people = plan_people
    enrolment = people["enrolment"]
    scan = ready_scan(people, hours=60, months=1)
    for role in ("apprentice", "employer", "tutor"):
        sign_scan(db.session, scan, by=people[role], seen=agreements.content_fingerprint(SKILLS_SCAN, scan))
    plan = planned(people)
    signed = TRAINING_PLAN.snapshot(plan)
    _sign_all(people, plan)
    for signature in plan.signatures + scan.signatures:
        assert agreements.fingerprint_matches(signature)
        assert sha256(signature.content.encode("utf-8")).hexdigest() == signature.fingerprint
    assert agreements.signed_content(plan.signatures[0]) == json.loads(canonical_json(signed))
    # The record changes after the plan was agreed; the agreed version still shows it as signed.
    enrolment.epao = None
    enrolment.planned_end_date, enrolment.planned_otj_hours = date(2026, 12, 31), 500
    db.session.commit()
    facts = shown_facts(plan, enrolment, prior_learning_result(db.session, enrolment.id))
    assert facts.as_signed and facts.signed_on == plan.agreed_at
    assert (facts.assessment_organisation, facts.planned_end, facts.planned_otj_hours) == (
        "Harbour Assessment Services", date(2026, 8, 28), 340,  # a month and 60 hours off for prior learning
    )  # fmt: skip
    assert (facts.prior_learning.version, facts.prior_learning.hours, facts.prior_learning.months) == (1, 60, 1)
    assert facts.english_maths_label == enrolment.english_maths_label

    # An UPDATE through SQL, behind the application's back: the check fails for that signature.
    first = plan.signatures[0]
    db.session.execute(
        text("UPDATE agreement_signatures SET content = :content WHERE id = :id"),
        {"content": first.content.replace("Harbour Assessment Services", "Other Assessments"), "id": first.id},
    )
    db.session.commit()
    db.session.expire_all()
    assert [agreements.fingerprint_matches(s) for s in plan.signatures] == [False, True, True]
    # The page shows what a signature that still matches was given.
    assert agreements.agreed_content(plan)["assessment_organisation"] == "Harbour Assessment Services"
    db.session.execute(text("UPDATE agreement_signatures SET content = 'not JSON' WHERE id = :id"), {"id": first.id})
    db.session.commit()
    db.session.expire_all()
    assert agreements.signed_content(plan.signatures[0]) is None
    assert not agreements.fingerprint_matches(plan.signatures[0])


def test_a_change_after_a_signature_makes_a_new_version_and_keeps_the_signed_one(plan_people):
    people = plan_people
    enrolment = people["enrolment"]
    first = planned(people)
    first_activity_ids = [a.id for a in first.activities]
    _sign(first, people["employer"])
    db.session.commit()
    details = ActivityDetails("Object handling workshops", date(2025, 10, 1), date(2025, 11, 30), D(70), ["K1"])
    changed = update_activity(db.session, enrolment, first_activity_ids[0], by=people["tutor"], details=details)
    db.session.commit()
    second = changed.plan
    assert (first.number, second.number) == (1, 2)
    assert [a.hours for a in first.activities] == [D(61), D(182)]  # the signed version, as signed
    assert [a.hours for a in second.activities] == [D(70), D(182)]
    assert [s.signer.value for s in first.signatures] == ["employer"] and second.signatures == []
    assert second.english_maths_plan == first.english_maths_plan
    # A further change to the unsigned version 2 stays in it.
    remove_activity(db.session, enrolment, second.activities[1].id, by=people["tutor"])
    db.session.commit()
    assert _count(TrainingPlan) == 2 and [a.hours for a in second.activities] == [D(70)]
    # An activity of the replaced version is not the current plan's.
    with pytest.raises(DomainError, match="not on its current version"):
        remove_activity(db.session, enrolment, first_activity_ids[1], by=people["tutor"])
    db.session.rollback()
    with pytest.raises(DomainError, match="not the current version"):
        _sign(first, people["apprentice"])
    db.session.rollback()
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("training_plan.%"))).all()
    assert actions.count("training_plan.new_version") == 1
    assert actions.count("training_plan.activity_changed") == 1 and actions.count("training_plan.activity_removed") == 1


def test_an_agreed_plan_changed_is_agreed_again_in_its_new_version(plan_people):
    people = plan_people
    first = planned(people)
    _sign_all(people, first)
    second = set_english_maths_plan(db.session, people["enrolment"], by=people["tutor"], text="Maths at level 2 too")
    db.session.commit()
    assert second.number == 2 and second.agreed_at is None and first.agreed_at is not None
    _sign_all(people, second)
    assert second.agreed_at is not None


def test_those_still_to_sign_are_asked_once_per_version(plan_people):
    people = plan_people

    def told(person) -> int:
        return _count(
            Notification, Notification.user_id == person.id, Notification.title.like("Sign the training plan%")
        )

    plan = planned(people)  # three changes, each ready to sign: each asked once; the tutor made them
    assert [told(people[r]) for r in ("apprentice", "employer", "tutor")] == [1, 1, 0]
    _sign(plan, people["tutor"])
    db.session.commit()
    assert [told(people[r]) for r in ("apprentice", "employer", "tutor")] == [1, 1, 0]
    second = set_english_maths_plan(db.session, people["enrolment"], by=people["tutor"], text="Changed")
    db.session.commit()
    assert second.number == 2
    assert [told(people[r]) for r in ("apprentice", "employer", "tutor")] == [2, 2, 0]


# ---------------------------------------------------------------------------------------------
# What the plan shows from elsewhere


def test_the_prior_learning_is_that_of_the_agreed_skills_scan(plan_people):
    people = plan_people
    enrolment = people["enrolment"]
    assert prior_learning_result(db.session, enrolment.id) is None
    scan = ready_scan(people, hours=60, months=1)
    plan = planned(people)
    before = agreements.content_fingerprint(TRAINING_PLAN, plan)
    for role in ("apprentice", "employer", "tutor"):
        sign_scan(db.session, scan, by=people[role], seen=agreements.content_fingerprint(SKILLS_SCAN, scan))
    db.session.commit()
    result = prior_learning_result(db.session, enrolment.id)
    assert (result.version, result.hours, result.months) == (1, 60, 1)
    # Agreeing the scan changed what the plan shows (the prior learning, and the planned hours: 400 - 60 = 340).
    assert agreements.content_fingerprint(TRAINING_PLAN, plan) != before
    assert "340 hours" in hours_warning(plan)


def test_the_review_schedule_is_the_progress_reviews_own(plan_people):
    enrolment = plan_people["enrolment"]
    # Every 3 calendar months from the start, 1 September 2025, until the planned end, 28 September 2026.
    assert review_dates(enrolment, None) == [date(2025, 12, 1), date(2026, 3, 1), date(2026, 6, 1), date(2026, 9, 1)]
    # After a review on 10 January 2026: 10 April, 10 July; 10 October is after the planned end.
    assert review_dates(enrolment, date(2026, 1, 10)) == [date(2026, 4, 10), date(2026, 7, 10)]
    assert enrolment.start_date == START
