"""Breaks in learning: an apprenticeship paused, and resumed with its planned end moved.

During a break the enrolment takes no evidence and no off-the-job hours, the expected pace stops
at the break's first day and no progress review falls due. On the return the planned end moves by
the break's length (kept on the break, with the dates before and after), the pace goes on from
where it stopped, and the next review is due one interval after the return.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from ..core import audit, clock
from ..core.domain import DomainError, lock_enrolment_for_change, required_text
from ..core.wording import long_date
from ..models import Enrolment, EnrolmentStatus, LearningBreak, User
from ..models.types import MAX_NOTE
from .domain import change_status

MAX_BREAK_DAYS = 2 * 365  # a longer break is a withdrawal and a new start
FIRST_DAY, EXPECTED = "starts_on", "expected_return_on"  # the form's fields


def start_break(
    session: Session,
    enrolment: Enrolment,
    *,
    by: User | None,
    starts_on: date,
    expected_return_on: date,
    reason: str,
    today: date | None = None,
) -> LearningBreak:
    lock_enrolment_for_change(session, enrolment)  # two at once: the second sees the first's status
    today = today or clock.today()
    if enrolment.status is not EnrolmentStatus.ON_PROGRAMME:
        raise DomainError(f"Only an apprenticeship on programme can start a break, not one {_status(enrolment)}")
    if starts_on > today:
        raise DomainError("The break's first day must be today or in the past", FIRST_DAY)
    if starts_on < enrolment.start_date:
        raise DomainError(f"The break must start on or after the start, {long_date(enrolment.start_date)}", "starts_on")
    if enrolment.resumed_on and starts_on < enrolment.resumed_on:
        raise DomainError(
            f"The break must start on or after the last return, {long_date(enrolment.resumed_on)}", "starts_on"
        )
    if expected_return_on <= starts_on:
        raise DomainError("The expected return must be after the break's first day", EXPECTED)
    if (expected_return_on - starts_on).days > MAX_BREAK_DAYS:
        raise DomainError(
            "A break may last at most two years: withdraw the apprenticeship instead", "expected_return_on"
        )
    reason = required_text(
        reason,
        maximum=MAX_NOTE,
        missing="Say why the apprentice is taking a break",
        called="The reason",
        field="reason",
    )
    learning_break = LearningBreak(
        enrolment=enrolment, starts_on=starts_on, expected_return_on=expected_return_on, reason=reason, started_by=by
    )
    session.add(learning_break)
    enrolment.paused_since = starts_on
    change_status(session, enrolment, EnrolmentStatus.BREAK_IN_LEARNING, by, f"From {long_date(starts_on)}: {reason}")
    after = {"starts_on": starts_on, "expected_return_on": expected_return_on, "reason": reason}
    audit.record_added(session, "break.started", learning_break, actor=by, after=after)
    return learning_break


def end_break(
    session: Session, enrolment: Enrolment, *, by: User | None, returned_on: date, today: date | None = None
) -> LearningBreak:
    """The apprentice is back: the planned end moves by the days the break lasted."""
    lock_enrolment_for_change(session, enrolment)
    today = today or clock.today()
    current = current_break(enrolment)
    if enrolment.status is not EnrolmentStatus.BREAK_IN_LEARNING or current is None:
        raise DomainError(f"This apprenticeship is not on a break in learning: it is {_status(enrolment)}")
    if returned_on > today:
        raise DomainError("The return must be today or in the past", "returned_on")
    if returned_on <= current.starts_on:
        raise DomainError(
            f"The return must be after the break's first day, {long_date(current.starts_on)}", "returned_on"
        )
    days = (returned_on - current.starts_on).days
    current.returned_on, current.returned_by = returned_on, by
    current.planned_end_before = enrolment.planned_end_date
    current.planned_end_after = enrolment.planned_end_date + timedelta(days=days)
    before = {"planned_end_date": enrolment.planned_end_date, "paused_days": enrolment.paused_days}
    enrolment.planned_end_date = current.planned_end_after
    enrolment.paused_days += days
    enrolment.paused_since = None
    enrolment.resumed_on = returned_on
    change_status(session, enrolment, EnrolmentStatus.ON_PROGRAMME, by, f"Back on {long_date(returned_on)}")
    after = {"returned_on": returned_on, "days": days, "planned_end_date": enrolment.planned_end_date}
    audit.record_change(
        "break.ended", enrolment, actor=by, before=before, after=after | {"paused_days": enrolment.paused_days}
    )
    return current


def current_break(enrolment: Enrolment) -> LearningBreak | None:
    """The break under way, if there is one."""
    return next((b for b in reversed(enrolment.breaks) if b.returned_on is None), None)


def _status(enrolment: Enrolment) -> str:
    return enrolment.status.label.lower()
