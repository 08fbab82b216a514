"""Breaks in learning: starting one stops evidence, off-the-job hours, the pace and the review
schedule; the return moves the planned end by the break's length and starts them again. The
figures are worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portfolio.core.domain import DomainError
from portfolio.enrolments.breaks import end_break, start_break
from portfolio.extensions import db
from portfolio.models import AuditEvent, EnrolmentStatus, OtjActivity, ReviewInterval, Role
from portfolio.otj.domain import NO_PAUSE, OtjDetails, Pause, enrolment_otj_summary, expected_hours, log_entry
from portfolio.progress_reviews.domain import review_due, schedule_start

from ..conftest import sign_in

START, END = date(2025, 9, 1), date(2026, 9, 1)  # 365 days; 365 hours planned: an hour a day
AWAY, BACK = date(2026, 1, 5), date(2026, 3, 2)  # day 126 of the plan; 56 days away


@pytest.fixture
def enrolment(world):
    return world.enrolment(start=START, planned_end_date=END, planned_otj_hours=365)


def _away(enrolment, today=AWAY):
    return start_break(db.session, enrolment, by=None, starts_on=AWAY, expected_return_on=date(2026, 3, 1),
                       reason="Caring for a parent.", today=today)  # fmt: skip


def test_a_break_and_the_return_move_the_planned_end_by_its_length(enrolment):
    learning_break = _away(enrolment)
    assert enrolment.status is EnrolmentStatus.BREAK_IN_LEARNING and enrolment.paused_since == AWAY
    assert enrolment.status_changes[-1].note == "From 5 January 2026: Caring for a parent."
    back = end_break(db.session, enrolment, by=None, returned_on=BACK, today=BACK)
    assert back is learning_break and back.days == 56
    # 1 September 2026 + 56 days = 27 October 2026.
    assert (back.planned_end_before, back.planned_end_after) == (END, date(2026, 10, 27))
    assert enrolment.planned_end_date == date(2026, 10, 27)
    assert (enrolment.status, enrolment.paused_days, enrolment.paused_since, enrolment.resumed_on) == (
        EnrolmentStatus.ON_PROGRAMME, 56, None, BACK
    )  # fmt: skip
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("break.%")).order_by(AuditEvent.id)
    ).all()
    assert actions == ["break.started", "break.ended"]


def test_the_pace_stops_during_a_break_and_goes_on_from_there_after_it(enrolment):
    assert expected_hours(365, START, END, AWAY) == Decimal("126.00")  # day 126 of 365, an hour a day
    _away(enrolment)
    during = Pause.of(enrolment)
    assert expected_hours(365, START, END, date(2026, 2, 20), during) == Decimal("126.00")  # stopped
    end_break(db.session, enrolment, by=None, returned_on=BACK, today=BACK)
    after = Pause.of(enrolment)
    # 12 March 2026 is day 192; less the 56 days away, 136 days of the 365 planned.
    new_end = enrolment.planned_end_date
    assert expected_hours(365, START, new_end, date(2026, 3, 12), after) == Decimal("136.00")
    assert expected_hours(365, START, new_end, date(2025, 12, 1), after) == Decimal("91.00")  # before: as it was
    assert expected_hours(365, START, new_end, new_end, after) == Decimal("365.00")
    # A list's totals give the same pace for any day after the return.
    totals = Pause.of_totals(START, enrolment.paused_days, enrolment.paused_since)
    assert expected_hours(365, START, new_end, date(2026, 3, 12), totals) == Decimal("136.00")
    summary = enrolment_otj_summary(db.session, enrolment, today=date(2026, 3, 12))
    assert summary.expected == Decimal("136.00")
    assert expected_hours(365, START, END, date(2026, 3, 12), NO_PAUSE) == Decimal("192.00")  # without the break


def test_no_evidence_or_training_is_taken_during_a_break(world, enrolment):
    _away(enrolment, today=date.today())
    with pytest.raises(DomainError, match="cannot log training"):
        log_entry(db.session, enrolment=enrolment, by=enrolment.apprentice,
                  details=OtjDetails(AWAY, Decimal(2), OtjActivity.WORKSHOP, "Reading."))  # fmt: skip
    with pytest.raises(DomainError):
        world.evidence(enrolment, submitted=False)


def test_no_review_falls_due_during_a_break_and_the_next_is_one_interval_after_the_return(enrolment):
    months = ReviewInterval.THREE_MONTHS
    assert review_due(enrolment.status, schedule_start(enrolment), None, months, AWAY).due == date(2025, 12, 1)
    _away(enrolment)
    assert review_due(enrolment.status, schedule_start(enrolment), None, months, date(2026, 2, 1)) is None
    end_break(db.session, enrolment, by=None, returned_on=BACK, today=BACK)
    due = review_due(enrolment.status, schedule_start(enrolment), None, months, BACK)
    assert (due.due, due.overdue) == (date(2026, 6, 2), False)  # three months after 2 March 2026
    # A review completed after the return counts from itself.
    assert review_due(enrolment.status, BACK, date(2026, 4, 1), months, BACK).due == date(2026, 7, 1)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"starts_on": date(2026, 1, 6)}, "starts_on", "today or in the past"),
        ({"starts_on": date(2025, 8, 31)}, "starts_on", "on or after the start, 1 September 2025"),
        ({"expected_return_on": AWAY}, "expected_return_on", "after the break's first day"),
        ({"expected_return_on": date(2028, 1, 6)}, "expected_return_on", "at most two years"),
        ({"reason": "  "}, "reason", "Say why the apprentice is taking a break"),
        ({"reason": "x" * 2001}, "reason", "2,000 characters or fewer"),
    ],
)
def test_a_bad_break_is_refused_and_changes_nothing(enrolment, change, field, message):
    values = {"starts_on": AWAY, "expected_return_on": date(2026, 3, 1), "reason": "Caring for a parent."} | change
    with pytest.raises(DomainError) as refused:
        start_break(db.session, enrolment, by=None, today=AWAY, **values)
    assert refused.value.field == field and message in refused.value.message
    assert enrolment.status is EnrolmentStatus.ON_PROGRAMME and enrolment.paused_since is None


def test_a_return_must_follow_a_break_and_its_first_day(enrolment):
    with pytest.raises(DomainError, match="not on a break in learning"):
        end_break(db.session, enrolment, by=None, returned_on=BACK, today=BACK)
    _away(enrolment)
    with pytest.raises(DomainError, match="after the break's first day, 5 January 2026"):
        end_break(db.session, enrolment, by=None, returned_on=AWAY, today=BACK)
    with pytest.raises(DomainError, match="today or in the past"):
        end_break(db.session, enrolment, by=None, returned_on=BACK, today=date(2026, 2, 1))
    with pytest.raises(DomainError, match="Only an apprenticeship on programme can start a break"):
        _away(enrolment)


def test_the_administrator_records_a_break_and_the_return_on_the_enrolment_page(world, enrolment, client):
    admin = world.user(Role.ADMIN, world.provider())
    db.session.commit()
    sign_in(client, admin)
    url = f"/admin/enrolments/{enrolment.id}"
    today = date.today()
    first = today - timedelta(days=14)
    form = {
        "break-starts_on": [first.day, first.month, first.year],  # a date's three boxes share its name
        "break-expected_return_on": [today.day, today.month, today.year + 1],
        "break-reason": "",
    }
    refused = client.post(f"{url}/break", data=form)
    refused_page = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "Say why the apprentice is taking a break" in refused_page
    # The page of several forms leads with the summary of the one sent, linked to its field.
    assert "There is a problem" in refused_page and 'href="#break-reason"' in refused_page
    started = client.post(f"{url}/break", data=form | {"break-reason": "A change of job."})
    assert started.status_code == 302, started.get_data(as_text=True)[-3000:]
    page = client.get(url).get_data(as_text=True)
    assert "On a break since" in page and "A change of job." in page and "Record the return" in page
    back = {"return-returned_on": [today.day, today.month, today.year]}
    planned_end = enrolment.planned_end_date
    response = client.post(f"{url}/return", data=back)
    assert response.status_code == 302
    db.session.expire_all()
    assert enrolment.planned_end_date == planned_end + timedelta(days=14)
    assert "Return recorded: the planned end moves to" in client.get(url).get_data(as_text=True)


def test_the_cohort_shows_a_break_and_sorts_by_the_paused_pace(world, enrolment, client):
    _away(enrolment, today=date.today())
    tutor = world.user(Role.TUTOR, enrolment.provider)
    db.session.commit()
    sign_in(client, tutor)
    page = client.get("/cohort").get_data(as_text=True)
    assert "Break in learning" in page and "since 5 January 2026" in page
    for sort in ("otj", "review"):
        assert client.get(f"/cohort?sort={sort}").status_code == 200
