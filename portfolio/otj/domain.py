"""Off-the-job training: the apprentice's log, the tutor's approval, and the pace against plan.

The arithmetic (`expected_hours`, `otj_summary`) is pure: plain values in, plain values out.
The rest takes a session and plain values and raises DomainError with the form field at fault.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from standard import Standard

from ..core import audit, clock
from ..core.access import is_apprentice_of, is_tutor_of, visible_enrolments_clause
from ..core.domain import DomainError, lock_enrolment_for, lock_enrolment_for_change, required_text
from ..core.text import clean_text
from ..core.wording import CENT, hours_text, long_date
from ..enrolments.domain import check_day_on_programme
from ..evidence.items import check_not_with_epao
from ..models import Enrolment, EnrolmentStatus, OtjActivity, OtjEntry, OtjStatus, Role, User
from ..models.types import MAX_NOTE, utcnow
from ..notifications.domain import notify, people_of
from ..notifications.kinds import Kind

MAX_HOURS = Decimal(24)
MAX_LEARNING = 2_000
MAX_CRITERIA_TEXT = 400  # the width of OtjEntry.criteria

# Training is logged while the apprenticeship runs; at gateway the practical period is over.
OPEN_FOR_OTJ = (EnrolmentStatus.ON_PROGRAMME,)  # not during a break in learning
EDITABLE = (OtjStatus.LOGGED, OtjStatus.QUERIED)
# (role, from, to): the status changes of an entry. Editing a queried entry sends it back for approval.
OTJ_CHANGES: frozenset[tuple[Role, OtjStatus, OtjStatus]] = frozenset(
    {
        (Role.APPRENTICE, OtjStatus.QUERIED, OtjStatus.LOGGED),
        (Role.TUTOR, OtjStatus.LOGGED, OtjStatus.APPROVED),
        (Role.TUTOR, OtjStatus.LOGGED, OtjStatus.QUERIED),
        (Role.TUTOR, OtjStatus.QUERIED, OtjStatus.APPROVED),
    }
)


@dataclass(frozen=True)
class OtjDetails:
    """What the apprentice writes about some training."""

    activity_date: date
    hours: Decimal
    activity: OtjActivity
    learning: str
    criteria: Sequence[str] = ()


# ---------------------------------------------------------------------------------------------
# Who may do what


def may_log(user: User, enrolment: Enrolment) -> bool:
    return is_apprentice_of(user, enrolment) and enrolment.status in OPEN_FOR_OTJ


def may_change_entry(user: User, entry: OtjEntry) -> bool:
    """The apprentice may edit or delete their entry until it is approved."""
    return may_log(user, entry.enrolment) and entry.created_by_id == user.id and entry.status in EDITABLE


def may_approve(user: User, enrolment: Enrolment) -> bool:
    return is_tutor_of(user, enrolment)


def may_change_status(role: Role, from_status: OtjStatus, to_status: OtjStatus) -> bool:
    return (role, from_status, to_status) in OTJ_CHANGES


# ---------------------------------------------------------------------------------------------
# Rules on what is entered (the form calls these too, so that every message shows at once)


def check_hours(hours: Decimal) -> Decimal:
    if not isinstance(hours, Decimal) or not hours.is_finite():
        raise DomainError("Enter the hours as a number, like 1.5", "hours")
    if hours <= 0:
        raise DomainError("The hours must be more than 0", "hours")
    if hours > MAX_HOURS:
        raise DomainError(f"An entry can be at most {MAX_HOURS} hours: log each day separately", "hours")
    if hours != hours.quantize(CENT):
        raise DomainError("Give the hours to at most 2 decimal places, like 1.25", "hours")
    return hours.quantize(CENT)


def check_activity_date(day: date, enrolment: Enrolment, today: date) -> date:
    return check_day_on_programme(day, enrolment, today, called="The date of the training", field="activity_date")


def check_criteria(codes: Iterable[str], standard: Standard) -> str:
    """The codes as stored: known to the standard, each once, in the standard's order."""
    chosen = set()
    for code in codes:
        if code not in standard:
            raise DomainError(f"{code} is not a criterion of {standard.reference}", "criteria")
        chosen.add(code)
    text = " ".join(code for code in standard.codes if code in chosen)
    if len(text) > MAX_CRITERIA_TEXT:
        raise DomainError("Choose fewer criteria", "criteria")
    return text


def check_learning(text: str) -> str:
    return required_text(
        text, maximum=MAX_LEARNING, missing="Say what you learnt", called="What you learnt", field="learning"
    )


def parse_hours(text: str) -> Decimal:
    """Hours as typed ("1.5", " 2 ") to a Decimal; anything else is refused."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise DomainError("Enter the hours as a number, like 1.5", "hours") from None
    if not value.is_finite():
        raise DomainError("Enter the hours as a number, like 1.5", "hours")
    return value


# ---------------------------------------------------------------------------------------------
# Changes


def log_entry(
    session: Session, *, enrolment: Enrolment, by: User, details: OtjDetails, today: date | None = None
) -> OtjEntry:
    lock_enrolment_for(session, enrolment, by, may_log, "You cannot log training for this apprenticeship now")
    entry = OtjEntry(enrolment=enrolment, created_by=by, status=OtjStatus.LOGGED)
    _apply(entry, details, today or clock.today())
    return audit.record_added(session, "otj.logged", entry, actor=by, after=_audited_values(entry))


def update_entry(
    session: Session, entry: OtjEntry, *, by: User, details: OtjDetails, today: date | None = None
) -> None:
    _lock(session, entry)
    _check_changeable(entry, by)
    with audit.recording("otj.updated", entry, actor=by, values=_audited_values):
        _apply(entry, details, today or clock.today())
        if entry.status is OtjStatus.QUERIED:
            _change_status(entry, OtjStatus.LOGGED, by)


def delete_entry(session: Session, entry: OtjEntry, *, by: User) -> None:
    _lock(session, entry)
    _check_changeable(entry, by)
    audit.record_change("otj.deleted", entry, actor=by, before=_audited_values(entry))
    session.delete(entry)
    session.flush()


def approve_entry(session: Session, entry: OtjEntry, *, by: User) -> None:
    _lock(session, entry)
    if not may_approve(by, entry.enrolment):
        raise DomainError("Only a tutor of the training provider can approve training")
    audit.record_changes(session, [_approve(entry, by, utcnow())], actor=by)
    _tell_approved(session, entry.enrolment, [entry], by)
    session.flush()


def approve_entries(session: Session, enrolment: Enrolment, entry_ids: Iterable[int], *, by: User) -> int:
    """Approve the chosen entries of the enrolment still awaiting a decision; returns how many."""
    lock_enrolment_for(
        session, enrolment, by, may_approve, "Only a tutor of the training provider can approve training"
    )
    ids = {int(i) for i in entry_ids}
    if not ids:
        raise DomainError("Choose the entries to approve", "entries")
    entries = session.scalars(
        select(OtjEntry)
        .where(OtjEntry.enrolment_id == enrolment.id, OtjEntry.id.in_(ids), OtjEntry.status.in_(EDITABLE))
        .with_for_update()
    ).all()
    now = utcnow()
    audit.record_changes(session, [_approve(entry, by, now) for entry in entries], actor=by)
    _tell_approved(session, enrolment, entries, by)  # one notification for the lot
    session.flush()
    return len(entries)


def query_entry(session: Session, entry: OtjEntry, *, by: User, note: str) -> None:
    """Send an entry back to the apprentice with a question; it can then be edited."""
    _lock(session, entry)
    if not may_approve(by, entry.enrolment):
        raise DomainError("Only a tutor of the training provider can query training")
    note = _query_note(note)
    audit.record_changes(session, [_query(entry, by, note, utcnow())], actor=by)
    _tell_queried(session, entry.enrolment, [entry], by, note)


def query_entries(session: Session, enrolment: Enrolment, entry_ids: Iterable[int], *, by: User, note: str) -> int:
    """Send the chosen entries awaiting approval back with one question, in one transaction and a
    fixed number of queries, one event each and one notification for the lot; returns how many."""
    lock_enrolment_for(session, enrolment, by, may_approve, "Only a tutor of the training provider can query training")
    ids = {int(i) for i in entry_ids}
    if not ids:
        raise DomainError("Choose the entries to query", "entries")
    note = _query_note(note)
    entries = session.scalars(
        select(OtjEntry)
        .where(OtjEntry.enrolment_id == enrolment.id, OtjEntry.id.in_(ids), OtjEntry.status == OtjStatus.LOGGED)
        .with_for_update()
    ).all()
    now = utcnow()
    audit.record_changes(session, [_query(entry, by, note, now) for entry in entries], actor=by)
    _tell_queried(session, enrolment, entries, by, note)
    session.flush()
    return len(entries)


def _query_note(note: str) -> str:
    note = clean_text(note)
    if not note:
        raise DomainError("Say what needs checking", "note")
    if len(note) > MAX_NOTE:
        raise DomainError(f"The note must be {MAX_NOTE:,} characters or fewer", "note")
    return note


def _query(entry: OtjEntry, by: User, note: str, now: datetime) -> audit.Change:
    """Query the entry; the caller records the returned change (one batch for several)."""
    before = {"status": entry.status}
    _change_status(entry, OtjStatus.QUERIED, by)
    entry.query_note = note
    entry.reviewed_by = by
    entry.reviewed_at = now
    return audit.Change("otj.queried", entry, before, {"status": entry.status, "query_note": note})


def _tell_queried(session: Session, enrolment: Enrolment, entries: Sequence[OtjEntry], by: User, note: str) -> None:
    if not entries:
        return
    if len(entries) == 1:
        title = f"{by.name} queried your off-the-job training: {_entry_text(entries[0])}"
        link = otj_path(enrolment, entries[0])
    else:
        title, link = f"{by.name} queried {len(entries)} of your off-the-job training entries", otj_path(enrolment)
    notify(
        session,
        people_of(session, enrolment, Role.APPRENTICE),
        Kind.OTJ_QUERIED,
        title=title,
        body=note,
        link=link,
        enrolment=enrolment,
        actor=by,
    )


def otj_path(enrolment: Enrolment, entry: OtjEntry | None = None) -> str:
    """The log, or one entry of it (where a queried entry is changed): for a notification's link."""
    return f"/enrolments/{enrolment.id}/otj" + (f"/{entry.id}" if entry is not None else "")


def _entry_text(entry: OtjEntry) -> str:
    return f"{hours_text(entry.hours)} on {long_date(entry.activity_date)}"


def _tell_approved(session: Session, enrolment: Enrolment, entries: Sequence[OtjEntry], by: User) -> None:
    if not entries:
        return
    if len(entries) == 1:
        [entry] = entries
        title, link = f"Off-the-job training approved: {_entry_text(entry)}", otj_path(enrolment, entry)
    else:
        total = sum((entry.hours for entry in entries), Decimal(0))
        title = f"{len(entries)} off-the-job training entries approved: {hours_text(total)} in all"
        link = otj_path(enrolment)
    notify(
        session,
        people_of(session, enrolment, Role.APPRENTICE),
        Kind.OTJ_APPROVED,
        title=title,
        link=link,
        enrolment=enrolment,
        actor=by,
    )


def _lock(session: Session, entry: OtjEntry) -> None:
    """The enrolment first, then the entry (approved hours are a gateway check: see
    lock_enrolment_for_change); Gone if the entry was deleted meanwhile."""
    lock_enrolment_for_change(session, entry.enrolment, entry)


def _approve(entry: OtjEntry, by: User, now: datetime) -> audit.Change:
    """Approve the entry; the caller records the returned change (one batch for several)."""
    before = {"status": entry.status}
    _change_status(entry, OtjStatus.APPROVED, by)
    entry.reviewed_by = by
    entry.reviewed_at = now
    return audit.Change("otj.approved", entry, before, {"status": entry.status})


def _audited_values(entry: OtjEntry) -> dict:
    """What the audit trail records of an entry."""
    return audit.values(entry, "activity_date", "hours", "activity", "learning", "criteria", "status")


def _check_changeable(entry: OtjEntry, by: User) -> None:
    if entry.status is OtjStatus.APPROVED:
        raise DomainError("Approved training cannot be changed")
    if not may_change_entry(by, entry):
        raise DomainError("You cannot change this entry")


def _apply(entry: OtjEntry, details: OtjDetails, today: date) -> None:
    enrolment = entry.enrolment
    entry.activity_date = check_activity_date(details.activity_date, enrolment, today)
    entry.hours = check_hours(details.hours)
    if not isinstance(details.activity, OtjActivity):
        raise DomainError("Choose the kind of training", "activity")
    entry.activity = details.activity
    entry.learning = check_learning(details.learning)
    entry.criteria = check_criteria(details.criteria, enrolment.standard_version.standard)


def _change_status(entry: OtjEntry, to_status: OtjStatus, by: User) -> None:
    check_not_with_epao(entry.enrolment)  # approved hours are a gateway check the EPAO relies on
    if not may_change_status(by.role, entry.status, to_status):
        if entry.status is to_status:
            raise DomainError(f"This entry is already {to_status.label.lower()}")
        verb = {OtjStatus.APPROVED: "approved", OtjStatus.QUERIED: "queried", OtjStatus.LOGGED: "sent for approval"}
        raise DomainError(f"An entry that is {entry.status.label.lower()} cannot be {verb[to_status]}")
    entry.status = to_status


# ---------------------------------------------------------------------------------------------
# Totals and pace: pure arithmetic


@dataclass(frozen=True)
class OtjHours:
    """Hours done on one day (one entry, or a day's sum); `approved` says whether they count as approved."""

    day: date
    hours: Decimal
    approved: bool


@dataclass(frozen=True)
class OtjMonth:
    """Cumulative figures at the end of a month (or today, for the current month).

    `logged` and `approved` are None for months still to come; `expected` is always the plan.
    """

    month: date  # its first day
    until: date
    logged: Decimal | None
    approved: Decimal | None
    expected: Decimal

    @property
    def is_future(self) -> bool:
        return self.logged is None


@dataclass(frozen=True)
class OtjSummary:
    start: date
    planned_end: date
    planned: Decimal
    logged: Decimal
    approved: Decimal
    expected: Decimal  # the pace expected by `today`
    today: date
    months: tuple[OtjMonth, ...]

    @property
    def ahead_by(self) -> Decimal:
        """Logged hours above the expected pace; negative when behind."""
        return self.logged - self.expected

    @property
    def approved_ahead_by(self) -> Decimal:
        return self.approved - self.expected

    @property
    def awaiting(self) -> Decimal:
        """Hours logged but not (yet) approved: awaiting approval or queried."""
        return self.logged - self.approved


@dataclass(frozen=True)
class Pause:
    """Breaks in learning as the pace sees them: the first day and the return (None while under
    way) of each. Their days count as neither elapsed nor planned: the planned end moved by each
    break that has ended, and during one the pace stays where it was on its first day."""

    breaks: tuple[tuple[date, date | None], ...] = ()

    @classmethod
    def of(cls, enrolment: Enrolment) -> Pause:
        return cls(tuple((b.starts_on, b.returned_on) for b in enrolment.breaks))

    @classmethod
    def of_totals(cls, start: date, paused_days: int, paused_since: date | None) -> Pause:
        """From the enrolment's totals (a row of a list): right for any day after the latest return."""
        ended = ((start, start + timedelta(days=paused_days)),) if paused_days else ()
        return cls(ended + (((paused_since, None),) if paused_since else ()))

    def before(self, on: date) -> int:
        """Days of breaks before `on`."""
        return sum(max(0, (min(back or on, on) - first).days) for first, back in self.breaks)

    @property
    def ended_days(self) -> int:
        return sum((back - first).days for first, back in self.breaks if back)


NO_PAUSE = Pause()


def expected_hours(
    planned_hours: int | Decimal, start: date, planned_end: date, on: date, pause: Pause = NO_PAUSE
) -> Decimal:
    """Planned hours spread evenly over the practical period: planned x elapsed days / total days,
    leaving out the days of breaks in learning (`pause`).

    Capped to [0, planned], to 2 decimal places.
    """
    planned = Decimal(planned_hours)
    total = (planned_end - start).days - pause.ended_days
    elapsed = (on - start).days - pause.before(on)
    if elapsed <= 0:
        return Decimal("0.00")
    if total <= 0 or elapsed >= total:
        return planned.quantize(CENT)
    return min(max(planned * elapsed / total, Decimal(0)), planned).quantize(CENT, ROUND_HALF_UP)


def behind_pace(logged: Decimal, expected: Decimal, margin_percent: int | Decimal) -> bool:
    """Whether the hours logged fall short of those expected by now by more than `margin_percent`
    of the expected (so 10 means: less than 90% of the expected logged)."""
    return logged < expected * (100 - Decimal(margin_percent)) / 100


def otj_summary(
    planned_hours: int | Decimal,
    start: date,
    planned_end: date,
    entries: Iterable[OtjHours],
    today: date,
    pause: Pause = NO_PAUSE,
) -> OtjSummary:
    """Totals, the pace expected to date, and cumulative figures by month from the start month
    to the planned end month (or later, if today or an entry is later)."""
    entries = sorted(entries, key=lambda e: e.day)
    logged = sum((e.hours for e in entries), Decimal("0.00"))
    approved = sum((e.hours for e in entries if e.approved), Decimal("0.00"))

    # Up to the planned end, or the last entry if later (a plan that ran over).
    last = max([planned_end, *(e.day for e in entries[-1:])])
    months = []
    month = start.replace(day=1)
    running_logged = running_approved = Decimal("0.00")
    index = 0
    while month <= last:
        month_end = month.replace(day=calendar.monthrange(month.year, month.month)[1])
        is_future = month > today
        until = month_end if is_future or month_end < today else today
        while index < len(entries) and entries[index].day <= month_end:
            running_logged += entries[index].hours
            if entries[index].approved:
                running_approved += entries[index].hours
            index += 1
        months.append(
            OtjMonth(
                month=month,
                until=until,
                logged=None if is_future else running_logged,
                approved=None if is_future else running_approved,
                expected=expected_hours(planned_hours, start, planned_end, until, pause),
            )
        )
        month = month_end + timedelta(days=1)
    return OtjSummary(
        start=start,
        planned_end=planned_end,
        planned=Decimal(planned_hours).quantize(CENT),
        logged=logged.quantize(CENT),
        approved=approved.quantize(CENT),
        expected=expected_hours(planned_hours, start, planned_end, today, pause),
        today=today,
        months=tuple(months),
    )


def pace_text(summary: OtjSummary) -> str:
    """Ahead or behind the expected pace, in words."""
    difference = summary.ahead_by
    if difference > 0:
        return f"{hours_text(difference)} ahead of the expected pace"
    if difference < 0:
        return f"{hours_text(-difference)} behind the expected pace"
    return "exactly on the expected pace"


def summary_text(summary: OtjSummary) -> str:
    """The summary in a sentence or two, for a progress review's record."""
    today = summary.today
    return (
        f"{hours_text(summary.logged)} logged, {hours_text(summary.approved)} approved, "
        f"of {hours_text(summary.planned)} planned. "
        f"Expected by {today.day} {today:%B %Y}: {hours_text(summary.expected)}; "
        f"logged hours are {pace_text(summary)}."
    )


# ---------------------------------------------------------------------------------------------
# Queries


def enrolment_otj_summary(session: Session, enrolment: Enrolment, today: date | None = None) -> OtjSummary:
    """The enrolment's summary from one aggregate query (hours per day and status)."""
    rows = session.execute(
        select(OtjEntry.activity_date, OtjEntry.status, func.sum(OtjEntry.hours))
        .where(OtjEntry.enrolment_id == enrolment.id)
        .group_by(OtjEntry.activity_date, OtjEntry.status)
    )
    entries = [OtjHours(day, _decimal(total), status is OtjStatus.APPROVED) for day, status, total in rows]
    return otj_summary(
        enrolment.planned_otj_hours,
        enrolment.start_date,
        enrolment.planned_end_date,
        entries,
        today or clock.today(),
        Pause.of(enrolment),
    )


def entries_to_approve_count(session: Session, tutor: User, *, assigned_only: bool = False) -> int:
    """Entries awaiting approval on the enrolments of the tutor's provider (one query).

    With `assigned_only`, only those of enrolments the tutor is assigned to.
    """
    if tutor.role is not Role.TUTOR:
        return 0
    statement = (
        select(func.count(OtjEntry.id))
        .join(OtjEntry.enrolment)
        .where(
            visible_enrolments_clause(tutor),
            Enrolment.status != EnrolmentStatus.WITHDRAWN,
            OtjEntry.status == OtjStatus.LOGGED,
        )
    )
    if assigned_only:
        statement = statement.where(Enrolment.tutor_id == tutor.id)
    return session.scalar(statement) or 0


def queried_entries_count(session: Session, apprentice: User) -> int:
    """The apprentice's entries a tutor has queried, for them to change (one query)."""
    if apprentice.role is not Role.APPRENTICE:
        return 0
    return (
        session.scalar(
            select(func.count(OtjEntry.id))
            .join(OtjEntry.enrolment)
            .where(
                visible_enrolments_clause(apprentice),
                Enrolment.status.in_(OPEN_FOR_OTJ),
                OtjEntry.status == OtjStatus.QUERIED,
            )
        )
        or 0
    )


def otj_hours_by_enrolment(
    session: Session, enrolment_ids: Iterable[int] | Select
) -> dict[int, tuple[Decimal, Decimal]]:
    """(logged, approved) hours per enrolment, for a set of ids or a select of ids, in one query.

    Enrolments without entries are left out. Feed `expected_hours` for the pace of each.
    """
    ids = enrolment_ids if isinstance(enrolment_ids, Select) else list(enrolment_ids)
    approved = func.sum(case((OtjEntry.status == OtjStatus.APPROVED, OtjEntry.hours), else_=0))
    rows = session.execute(
        select(OtjEntry.enrolment_id, func.sum(OtjEntry.hours), approved)
        .where(OtjEntry.enrolment_id.in_(ids))
        .group_by(OtjEntry.enrolment_id)
    )
    return {enrolment_id: (_decimal(logged), _decimal(approved)) for enrolment_id, logged, approved in rows}


def _decimal(value) -> Decimal:
    """A database sum as hours: SQLite may hand back a float, PostgreSQL a Decimal."""
    return Decimal(str(value or 0)).quantize(CENT, ROUND_HALF_UP)
