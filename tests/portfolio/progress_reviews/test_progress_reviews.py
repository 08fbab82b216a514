"""Progress reviews: the due-date arithmetic (pure), recording, signing and the to-do counts."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portfolio.core.access import enrolments_visible_to, signing_party
from portfolio.core.domain import DomainError
from portfolio.enrolments.domain import change_status
from portfolio.extensions import db
from portfolio.models import (
    Enrolment,
    EnrolmentStatus,
    ProgressReview,
    Rag,
    ReviewCriterion,
    ReviewInterval,
    ReviewSignature,
    Role,
)
from portfolio.progress_reviews.domain import (
    ReviewDetails,
    ReviewDue,
    add_calendar_months,
    awaiting_signers,
    create_review,
    is_overdue,
    last_complete_review_dates,
    may_edit_review,
    next_review_due,
    review_due,
    reviews_to_sign_count,
    sign_review,
    update_review,
)
from standard import Signer

pytestmark = pytest.mark.one_transaction  # stays on db.session: rolled back, not emptied

START = date(2025, 9, 1)
TODAY = date(2025, 12, 10)
MONTHS, WEEKS = ReviewInterval.THREE_MONTHS, ReviewInterval.TWELVE_WEEKS


# ---------------------------------------------------------------------------------------------
# Pure date arithmetic


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 9, 1), 3, date(2025, 12, 1)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),  # no 30 February
        (date(2027, 11, 30), 3, date(2028, 2, 29)),  # a leap year
        (date(2025, 11, 29), 3, date(2026, 2, 28)),
        (date(2025, 8, 31), 3, date(2025, 11, 30)),
        (date(2025, 12, 31), 3, date(2026, 3, 31)),
        (date(2025, 10, 31), 4, date(2026, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2025, 12, 15), 3, date(2026, 3, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_add_calendar_months_minds_month_ends(day, months, expected):
    assert add_calendar_months(day, months) == expected


@pytest.mark.parametrize(
    ("last_complete", "interval", "due"),
    [
        (None, MONTHS, date(2025, 12, 1)),  # from the start
        (None, WEEKS, date(2025, 11, 24)),  # 84 days
        (date(2025, 11, 30), MONTHS, date(2026, 2, 28)),
        (date(2025, 11, 30), WEEKS, date(2026, 2, 22)),
        (date(2027, 11, 30), MONTHS, date(2028, 2, 29)),
        (date(2025, 12, 31), WEEKS, date(2026, 3, 25)),
        (date(2025, 12, 31), MONTHS, date(2026, 3, 31)),
    ],
)
def test_next_review_due(last_complete, interval, due):
    assert next_review_due(START, last_complete, interval) == due


def test_overdue_only_after_the_due_day():
    due = date(2026, 2, 28)
    assert not is_overdue(due, date(2026, 2, 27))
    assert not is_overdue(due, due)
    assert is_overdue(due, date(2026, 3, 1))


def test_review_due_only_while_on_programme():
    on = EnrolmentStatus.ON_PROGRAMME
    assert review_due(on, START, None, MONTHS, TODAY) == ReviewDue(date(2025, 12, 1), True)
    assert review_due(on, START, date(2025, 11, 28), WEEKS, TODAY) == ReviewDue(date(2026, 2, 20), False)
    for status in (EnrolmentStatus.BREAK_IN_LEARNING, EnrolmentStatus.AT_GATEWAY, EnrolmentStatus.WITHDRAWN):
        assert review_due(status, START, None, MONTHS, TODAY) is None


# ---------------------------------------------------------------------------------------------
# Recording and signing


@pytest.fixture
def parties(world):
    provider, employer = world.provider(), world.employer()
    tutor = world.user(Role.TUTOR, provider)
    mentor = world.user(Role.EMPLOYER, employer)
    enrolment = world.enrolment(employer=employer, provider=provider, tutor=tutor, mentor=mentor, start=START)
    return {"enrolment": enrolment, "apprentice": enrolment.apprentice, "employer": mentor, "tutor": tutor}


def details(**overrides) -> ReviewDetails:
    values = dict(
        review_date=date(2025, 11, 28),
        attendees="Apprentice, line manager, tutor",
        progress="Two projects evidenced; the family workshop plan accepted.",
        otj_and_slippage="60 hours logged of 77 expected: 17 behind; two study days booked.",
        wellbeing_and_support="Settled; asked for help with budgets.",
        actions="Budget training by January.",
        training_plan_changes="None.",
        concerns_and_changes="None raised.",
        actions_since_last="All done.",
        late_reason="Moved for the apprentice's leave.",
        criteria={"K1": (Rag.GREEN, "Well evidenced"), "S11": (Rag.AMBER, "Needs a budget"), "B7": (Rag.RED, "")},
    )
    values.update(overrides)
    return ReviewDetails(**values)


def _record(parties, **overrides) -> ProgressReview:
    return create_review(
        db.session, enrolment=parties["enrolment"], author=parties["tutor"], details=details(**overrides), today=TODAY
    )


def test_record_a_review(parties):
    review = _record(parties)
    assert review.review_date == date(2025, 11, 28) and review.created_by == parties["tutor"]
    assert [(c.criterion_code, c.rag, c.note) for c in review.criteria] == [
        ("K1", Rag.GREEN, "Well evidenced"), ("S11", Rag.AMBER, "Needs a budget"), ("B7", Rag.RED, ""),
    ]  # fmt: skip
    assert review.completed_at is None
    assert awaiting_signers(review) == [Signer.APPRENTICE, Signer.EMPLOYER, Signer.PROVIDER]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"review_date": date(2025, 12, 11)}, "review_date", "today or in the past"),
        (
            {"review_date": date(2025, 8, 31)},
            "review_date",
            "on or after the start of the apprenticeship, 1 September 2025",
        ),
        ({"attendees": "  "}, "attendees", "Say who attended"),
        ({"progress": ""}, "progress", "Describe progress against the plan"),
        ({"actions": ""}, "actions", "Enter the actions agreed"),
        # What the funding rules ask every review to record:
        ({"otj_and_slippage": ""}, "otj_and_slippage", "Describe the off-the-job training done and any slippage"),
        ({"training_plan_changes": " "}, "training_plan_changes", "changes to the training plan were agreed, or"),
        ({"concerns_and_changes": ""}, "concerns_and_changes", "Record any concerns and changes of circumstance"),
        ({"wellbeing_and_support": "x" * 10_001}, "wellbeing_and_support", "10,000 characters or fewer"),
        ({"criteria": {"K99": (Rag.RED, "")}}, "criteria", "K99 is not a criterion of ST0396"),
        ({"criteria": {"K1": ("purple", "")}}, "rag-K1", "Choose a rating for K1"),
        ({"criteria": {"K1": (Rag.RED, "x" * 2001)}}, "note-K1", "2,000 characters or fewer"),
    ],
)
def test_bad_reviews_are_refused(parties, overrides, field, message):
    with pytest.raises(DomainError) as caught:
        _record(parties, **overrides)
    assert caught.value.field == field and message in caught.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count(ProgressReview.id))) == 0


def test_a_review_later_than_twelve_weeks_after_the_start_or_the_last_says_why(parties):
    # 1 September 2025 + 12 weeks = 24 November 2025: a review then is on time, and a reason is not kept.
    on_time = _record(parties, review_date=date(2025, 11, 24), late_reason="Not needed.", actions_since_last="")
    assert on_time.late_reason == "" and on_time.actions_since_last == ""  # the first review: nothing since
    db.session.delete(on_time)
    db.session.flush()
    # 25 November 2025 is 12 weeks and 1 day after the start.
    with pytest.raises(DomainError) as caught:
        _record(parties, review_date=date(2025, 11, 25), late_reason="")
    assert (caught.value.field, caught.value.message) == (
        "late_reason",
        "This review is 12 weeks and 1 day after the start, 1 September 2025: the funding rules ask for one at "
        "least every 12 weeks: say why it is late",
    )
    late = _record(parties, review_date=date(2025, 11, 25), late_reason="Moved for the apprentice's leave.")
    assert late.late_reason == "Moved for the apprentice's leave."


def test_a_second_review_says_what_came_of_the_last_ones_actions(parties):
    first = _record(parties, review_date=date(2025, 10, 1))
    db.session.flush()
    with pytest.raises(DomainError) as caught:
        _record(parties, review_date=date(2025, 12, 1), actions_since_last="")
    assert (caught.value.field, caught.value.message) == (
        "actions_since_last",
        "Say what came of the actions agreed at the last review",
    )
    # 1 October to 1 December 2025: 61 days, 8 weeks and 5 days, on time.
    second = _record(parties, review_date=date(2025, 12, 1), late_reason="Kept only if late.")
    assert second.late_reason == "" and first.review_date < second.review_date


def test_only_a_tutor_of_the_provider_records_reviews(world, parties):
    enrolment = parties["enrolment"]
    for user in (parties["apprentice"], parties["employer"], world.user(Role.TUTOR, world.provider()),
                 world.user(Role.ADMIN, enrolment.provider)):  # fmt: skip
        with pytest.raises(DomainError, match="Only a tutor of the training provider"):
            create_review(db.session, enrolment=enrolment, author=user, details=details(), today=TODAY)
    colleague = world.user(Role.TUTOR, enrolment.provider)
    assert create_review(db.session, enrolment=enrolment, author=colleague, details=details(), today=TODAY)
    change_status(db.session, enrolment, EnrolmentStatus.AT_GATEWAY, None)
    with pytest.raises(DomainError, match="now"):
        create_review(db.session, enrolment=enrolment, author=colleague, details=details(), today=TODAY)


def test_all_three_sign_and_the_review_is_complete(parties):
    review = _record(parties)
    db.session.commit()
    assert signing_party(parties["apprentice"], parties["enrolment"]) is Signer.APPRENTICE
    assert signing_party(parties["employer"], parties["enrolment"]) is Signer.EMPLOYER
    assert signing_party(parties["tutor"], parties["enrolment"]) is Signer.PROVIDER

    sign_review(db.session, review, by=parties["employer"], signer=Signer.EMPLOYER)
    sign_review(db.session, review, by=parties["apprentice"], signer=Signer.APPRENTICE)
    assert review.completed_at is None and awaiting_signers(review) == [Signer.PROVIDER]
    signature = sign_review(db.session, review, by=parties["tutor"], signer=Signer.PROVIDER)
    assert review.completed_at == signature.signed_at and awaiting_signers(review) == []
    db.session.commit()
    assert [(s.signer, s.user) for s in review.signatures] == [
        (Signer.EMPLOYER, parties["employer"]),
        (Signer.APPRENTICE, parties["apprentice"]),
        (Signer.PROVIDER, parties["tutor"]),
    ]


def test_signing_twice_or_for_someone_else_is_refused(world, parties):
    enrolment = parties["enrolment"]
    review = _record(parties)
    db.session.commit()
    sign_review(db.session, review, by=parties["apprentice"], signer=Signer.APPRENTICE)
    db.session.commit()
    with pytest.raises(DomainError, match="already been signed for the apprentice"):
        sign_review(db.session, review, by=parties["apprentice"], signer=Signer.APPRENTICE)
    other_tutor_same_provider = world.user(Role.TUTOR, enrolment.provider)
    sign_review(db.session, review, by=other_tutor_same_provider, signer=Signer.PROVIDER)
    db.session.commit()
    with pytest.raises(DomainError, match="already been signed for the training provider"):
        sign_review(db.session, review, by=parties["tutor"], signer=Signer.PROVIDER)

    attempts = [
        (parties["tutor"], Signer.EMPLOYER, "the employer"),
        (parties["tutor"], Signer.APPRENTICE, "the apprentice"),
        (parties["apprentice"], Signer.EMPLOYER, "the employer"),
        (parties["employer"], Signer.PROVIDER, "the training provider"),
        (world.user(Role.EMPLOYER, world.employer()), Signer.EMPLOYER, "the employer"),
        (world.enrolment().apprentice, Signer.APPRENTICE, "the apprentice"),
        (world.user(Role.ADMIN, enrolment.provider), Signer.PROVIDER, "the training provider"),
        (world.user(Role.ASSESSOR, world.epao()), Signer.EMPLOYER, "the employer"),
    ]
    for user, signer, label in attempts:
        with pytest.raises(DomainError, match=f"You cannot sign for {label}"):
            sign_review(db.session, review, by=user, signer=signer)
    db.session.rollback()
    assert db.session.scalar(select(func.count(ReviewSignature.id))) == 2
    assert db.session.get(ProgressReview, review.id).completed_at is None


def test_a_deactivated_user_cannot_sign(parties):
    review = _record(parties)
    parties["employer"].active = False
    with pytest.raises(DomainError, match="You cannot sign for the employer"):
        sign_review(db.session, review, by=parties["employer"], signer=Signer.EMPLOYER)


def test_the_tutor_edits_until_the_first_signature(world, parties):
    review = _record(parties)
    db.session.commit()
    assert may_edit_review(parties["tutor"], review)
    assert not may_edit_review(parties["employer"], review)
    # Criteria are changed in place: the same code saved again does not clash with itself.
    update_review(
        db.session, review, by=parties["tutor"], today=TODAY,
        details=details(progress="Updated.", criteria={"K1": (Rag.AMBER, "Less sure"), "S1": (Rag.GREEN, "")}),
    )  # fmt: skip
    db.session.commit()
    rows = db.session.scalars(select(ReviewCriterion).order_by(ReviewCriterion.criterion_code)).all()
    assert [(c.criterion_code, c.rag, c.note) for c in rows] == [("K1", Rag.AMBER, "Less sure"), ("S1", Rag.GREEN, "")]
    assert review.progress == "Updated."
    with pytest.raises(DomainError, match="Only a tutor"):
        update_review(db.session, review, by=parties["employer"], details=details(), today=TODAY)

    sign_review(db.session, review, by=parties["employer"], signer=Signer.EMPLOYER)
    db.session.commit()
    assert not may_edit_review(parties["tutor"], review)
    with pytest.raises(DomainError, match="has been signed, so it can no longer be changed"):
        update_review(db.session, review, by=parties["tutor"], details=details(progress="Too late."), today=TODAY)
    db.session.rollback()
    assert db.session.get(ProgressReview, review.id).progress == "Updated."


# ---------------------------------------------------------------------------------------------
# Counts and dates for the to-do list and the cohort dashboard


def test_reviews_to_sign_count(world, parties):
    enrolment = parties["enrolment"]
    reviews = [_record(parties, review_date=date(2025, 10, d)) for d in (1, 2, 3)]
    db.session.commit()
    sign_review(db.session, reviews[0], by=parties["apprentice"], signer=Signer.APPRENTICE)
    sign_review(db.session, reviews[0], by=parties["employer"], signer=Signer.EMPLOYER)
    sign_review(db.session, reviews[1], by=parties["tutor"], signer=Signer.PROVIDER)
    # Another enrolment of the same provider and employer, with its own review.
    other = world.enrolment(employer=enrolment.employer, provider=enrolment.provider, start=START)
    create_review(db.session, enrolment=other, author=parties["tutor"], details=details(), today=TODAY)
    db.session.commit()

    assert reviews_to_sign_count(db.session, parties["apprentice"]) == 2
    assert reviews_to_sign_count(db.session, other.apprentice) == 1
    assert reviews_to_sign_count(db.session, parties["employer"]) == 3  # 2 here + 1 on the other enrolment
    assert reviews_to_sign_count(db.session, parties["employer"], assigned_only=True) == 2  # mentor of this one
    assert reviews_to_sign_count(db.session, parties["tutor"]) == 3
    assert reviews_to_sign_count(db.session, parties["tutor"], assigned_only=True) == 2
    assert reviews_to_sign_count(db.session, world.user(Role.TUTOR, world.provider())) == 0
    assert reviews_to_sign_count(db.session, world.user(Role.ADMIN, enrolment.provider)) == 0
    change_status(db.session, other, EnrolmentStatus.WITHDRAWN, None)
    db.session.commit()
    assert reviews_to_sign_count(db.session, parties["tutor"]) == 2


def test_last_complete_review_dates_in_one_query(world, parties, app):
    from tests.portfolio.conftest import counting_queries

    enrolment = parties["enrolment"]
    complete = [_record(parties, review_date=date(2025, 11, d)) for d in (3, 20)]
    _record(parties, review_date=date(2025, 12, 1))  # the latest, but not complete
    db.session.commit()
    for review in complete:
        for party, signer in (("apprentice", Signer.APPRENTICE), ("employer", Signer.EMPLOYER),
                              ("tutor", Signer.PROVIDER)):  # fmt: skip
            sign_review(db.session, review, by=parties[party], signer=signer)
    never_reviewed = world.enrolment(provider=enrolment.provider, start=START)
    db.session.commit()
    ids = [enrolment.id, never_reviewed.id]
    with counting_queries() as count:
        dates = last_complete_review_dates(db.session, ids)
    assert dates == {enrolment.id: date(2025, 11, 20)} and count() == 1
    visible = enrolments_visible_to(parties["tutor"]).with_only_columns(Enrolment.id)
    assert last_complete_review_dates(db.session, visible) == {enrolment.id: date(2025, 11, 20)}
    due = review_due(enrolment.status, enrolment.start_date, dates.get(enrolment.id), enrolment.review_interval, TODAY)
    assert due == ReviewDue(date(2026, 2, 20), False)
