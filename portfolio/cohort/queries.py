"""The cohort table: for each enrolment a tutor's provider or an employer's organisation holds,
how far the apprentice has got (coverage, evidence awaiting review, off-the-job hours against
pace, progress reviews).

Every figure comes from aggregate subqueries grouped by enrolment (coverage and off-the-job
hours from the totals `enrolment_totals` keeps) joined to the enrolments in one statement, so filtering, sorting (by
computed columns too) and paging happen in the database, and a page costs the same few queries
for 50 enrolments as for 2,000.

(Named `cohort_table`, not `cohort`, because the `cohort/` package holds the pages.)
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import (
    Date,
    Float,
    Integer,
    Select,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.functions import FunctionElement

from ..core.access import visible_enrolments_clause
from ..core.domain import DomainError, attributes
from ..models import (
    Enrolment,
    EnrolmentCoverage,
    EnrolmentOtjHours,
    EnrolmentStatus,
    EvidenceItem,
    EvidenceStatus,
    Organisation,
    ProgressReview,
    ReviewInterval,
    Role,
    StandardVersion,
    User,
)
from ..otj.domain import CENT, Pause, expected_hours
from ..progress_reviews.domain import DUE_WHEN, review_base_clause, review_due

COHORT_ROLES = (Role.TUTOR, Role.EMPLOYER)
# Behind-pace and overdue flags are raised only while the apprentice is on programme (as
# `progress_reviews.review_due` does): a break, gateway, EPA, completion or withdrawal stops the clock.
IN_TRAINING = DUE_WHEN
# `progress_reviews.add_interval` again, as (unit, amount), for the same arithmetic in SQL.
REVIEW_INTERVALS: dict[ReviewInterval, tuple[str, int]] = {
    ReviewInterval.TWELVE_WEEKS: ("days", 84),
    ReviewInterval.THREE_MONTHS: ("months", 3),
}


class CohortSort(enum.Enum):
    """The columns the table sorts by, and the direction that puts who needs attention first."""

    APPRENTICE = "apprentice"
    START_DATE = "start"
    COVERAGE = "coverage"
    AWAITING_REVIEW = "awaiting"
    OTJ_BEHIND = "otj"
    NEXT_REVIEW = "review"

    @property
    def label(self) -> str:
        return {
            "apprentice": "Apprentice",
            "start": "Started",
            "coverage": "Coverage",
            "awaiting": "Awaiting review",
            "otj": "Off-the-job hours",
            "review": "Next review due",
        }[self.value]

    @property
    def descending_by_default(self) -> bool:
        """Most awaiting review and furthest behind pace come first; everything else ascends."""
        return self in (CohortSort.AWAITING_REVIEW, CohortSort.OTJ_BEHIND)


@dataclass(frozen=True)
class CohortFilters:
    employer_id: int | None = None
    tutor_id: int | None = None
    status: EnrolmentStatus | None = None
    search: str = ""  # part of the apprentice's name

    @property
    def active(self) -> bool:
        return bool(self.employer_id or self.tutor_id or self.status or self.search)


@dataclass(frozen=True)
class CohortOptions:
    """The choices of the filters: the employers and tutors of the user's cohort, by name."""

    employers: Sequence[tuple[int, str]]
    tutors: Sequence[tuple[int, str]]


@dataclass(frozen=True)
class CohortRow:
    enrolment_id: int
    apprentice_id: int
    apprentice_name: str
    employer_name: str
    tutor_name: str | None
    status: EnrolmentStatus
    start_date: date
    planned_end_date: date
    criteria_total: int
    evidenced: int
    accepted: int
    met: int
    awaiting_review: int
    otj_logged: Decimal
    otj_approved: Decimal
    otj_planned: int
    otj_expected: Decimal  # hours expected by today at an even pace (otj.expected_hours)
    last_review: date | None  # the newest complete (signed by all three) progress review
    next_review_due: date | None  # None when the apprentice is not training
    review_overdue: bool
    otj_behind: bool
    paused_since: date | None = None  # the first day of a break in learning under way

    def share(self, count: int) -> float:
        return count / self.criteria_total if self.criteria_total else 0.0

    def percent(self, count: int) -> int:
        """Whole percent, rounded down so that 100 means every criterion."""
        return count * 100 // self.criteria_total if self.criteria_total else 0


class CohortPage(Pagination):
    """One page of the cohort table, with the paging arithmetic of the app's other lists."""

    def _query_items(self) -> list[CohortRow]:
        return self._query_args["fetch"](self._query_offset, self.per_page)

    def _query_count(self) -> int:
        return self._query_args["count_rows"]()


# --- The table ---------------------------------------------------------------------------


def cohort_page(
    session: Session,
    user: User,
    filters: CohortFilters,
    sort: CohortSort,
    *,
    descending: bool | None = None,
    page: int = 1,
    per_page: int = 25,
    today: date,
) -> CohortPage:
    """One page of the user's cohort table, filtered and sorted in the database."""
    table = _CohortQuery(session, user, filters, today)
    descending = sort.descending_by_default if descending is None else descending

    def fetch(offset: int, limit: int) -> list[CohortRow]:
        return [table.row(r) for r in session.execute(table.rows(sort, descending, offset=offset, limit=limit))]

    def count() -> int:
        return session.scalar(select(func.count()).select_from(table.scope.subquery())) or 0

    return CohortPage(
        page=max(page, 1), per_page=per_page, max_per_page=None, error_out=False, fetch=fetch, count_rows=count
    )


def cohort_rows(
    session: Session,
    user: User,
    filters: CohortFilters,
    sort: CohortSort,
    *,
    descending: bool | None = None,
    today: date,
) -> Iterator[CohortRow]:
    """Every row of the table, in order, fetched in batches as they are read (for the CSV download).

    Refuses at once (not when first read) a user who has no cohort.
    """
    table = _CohortQuery(session, user, filters, today)
    statement = table.rows(sort, sort.descending_by_default if descending is None else descending)

    def rows() -> Iterator[CohortRow]:
        for row in session.execute(statement.execution_options(yield_per=500)):
            yield table.row(row)

    return rows()


def cohort_options(session: Session, user: User) -> CohortOptions:
    """The employers (for tutors) and the tutors of the user's cohort, for the filters."""
    _check_role(user)
    visible = visible_enrolments_clause(user)
    employers: list[tuple[int, str]] = []
    if user.role is Role.TUTOR:
        employers = [
            (row.id, row.name)
            for row in session.execute(
                select(Organisation.id, Organisation.name)
                .where(Organisation.id.in_(select(Enrolment.employer_id).where(visible)))
                .order_by(Organisation.name)
            )
        ]
    tutors = [
        (row.id, row.name)
        for row in session.execute(
            select(User.id, User.name)
            .where(User.id.in_(select(Enrolment.tutor_id).where(visible)))
            .order_by(User.name, User.id)
        )
    ]
    return CohortOptions(employers=employers, tutors=tutors)


def _check_role(user: User) -> None:
    if user.role not in COHORT_ROLES or not user.is_active:
        raise DomainError("Only tutors and employers have a cohort to see")


# The columns of the cohort query that a CohortRow shows as they are.
_COPIED_ROW_FIELDS = (
    "apprentice_id",
    "apprentice_name",
    "employer_name",
    "tutor_name",
    "status",
    "start_date",
    "planned_end_date",
    "evidenced",
    "accepted",
    "met",
    "awaiting_review",
    "last_review",
    "paused_since",
)


class _CohortQuery:
    """The statement behind the table: the user's enrolments, filtered, with their aggregates."""

    def __init__(self, session: Session, user: User, filters: CohortFilters, today: date) -> None:
        _check_role(user)
        self.today = today
        visible = visible_enrolments_clause(user)
        self.conditions = conditions = [visible]
        if filters.employer_id is not None:
            conditions.append(Enrolment.employer_id == filters.employer_id)
        if filters.tutor_id is not None:
            conditions.append(Enrolment.tutor_id == filters.tutor_id)
        if filters.status is not None:
            conditions.append(Enrolment.status == filters.status)
        if filters.search:
            conditions.append(User.name.icontains(filters.search, autoescape=True))
        self.scope = select(Enrolment.id).join(User, User.id == Enrolment.apprentice_id).where(*conditions)
        # Criteria totals come from each pinned standard (its YAML); there are only a few versions.
        versions = session.scalars(
            select(StandardVersion).where(StandardVersion.id.in_(select(Enrolment.standard_version_id).where(visible)))
        )
        self.totals = {version.id: len(version.standard) for version in versions}

    def rows(self, sort: CohortSort, descending: bool, *, offset: int = 0, limit: int | None = None) -> Select:
        """The rows of the table in order, from `offset`, at most `limit` of them.

        Two stages in one statement: the enrolments of the page, in order, sorted over the whole
        filtered set (with only the aggregate the sort needs); then every figure for those alone.
        """
        page = self._page(sort, descending, offset, limit).cte("cohort_page")
        in_page = select(page.c.id)
        coverage = EnrolmentCoverage
        awaiting = _awaiting_review(in_page)
        otj = EnrolmentOtjHours
        reviews = _last_reviews(in_page)
        employer = aliased(Organisation)
        tutor = aliased(User)
        return (
            select(
                Enrolment.id,
                Enrolment.apprentice_id,
                User.name.label("apprentice_name"),
                employer.name.label("employer_name"),
                tutor.name.label("tutor_name"),
                Enrolment.status,
                Enrolment.start_date,
                Enrolment.planned_end_date,
                Enrolment.planned_otj_hours,
                Enrolment.review_interval,
                Enrolment.paused_days,
                Enrolment.paused_since,
                Enrolment.resumed_on,
                Enrolment.standard_version_id,
                func.coalesce(coverage.evidenced, 0).label("evidenced"),
                func.coalesce(coverage.accepted, 0).label("accepted"),
                func.coalesce(coverage.met, 0).label("met"),
                func.coalesce(awaiting.c.awaiting_review, 0).label("awaiting_review"),
                func.coalesce(otj.logged, 0).label("otj_logged"),
                func.coalesce(otj.approved, 0).label("otj_approved"),
                reviews.c.last_review,
            )
            .select_from(page)
            .join(Enrolment, Enrolment.id == page.c.id)
            .join(User, User.id == Enrolment.apprentice_id)
            .join(employer, employer.id == Enrolment.employer_id)
            .outerjoin(tutor, tutor.id == Enrolment.tutor_id)
            .outerjoin(coverage, coverage.enrolment_id == Enrolment.id)
            .outerjoin(awaiting, awaiting.c.enrolment_id == Enrolment.id)
            .outerjoin(otj, otj.enrolment_id == Enrolment.id)
            .outerjoin(reviews, reviews.c.enrolment_id == Enrolment.id)
            .order_by(page.c.position)
        )

    def _page(self, sort: CohortSort, descending: bool, offset: int, limit: int | None) -> Select:
        """The ids of the page's enrolments and their position, sorted over the whole filtered set."""
        in_scope = self.scope  # the aggregate a sort needs is computed over the whole filtered set
        statement = select(Enrolment.id).join(User, User.id == Enrolment.apprentice_id).where(*self.conditions)
        training = Enrolment.status.in_(IN_TRAINING)
        keys: list[Any] = []
        match sort:
            case CohortSort.START_DATE:
                keys = [Enrolment.start_date]
            case CohortSort.COVERAGE:
                coverage = EnrolmentCoverage
                statement = statement.outerjoin(coverage, coverage.enrolment_id == Enrolment.id)
                total = case(self.totals, value=Enrolment.standard_version_id, else_=0) if self.totals else literal(0)
                keys = [_share(column, total) for column in (coverage.evidenced, coverage.accepted, coverage.met)]
            case CohortSort.AWAITING_REVIEW:
                awaiting = _awaiting_review(in_scope)
                statement = statement.outerjoin(awaiting, awaiting.c.enrolment_id == Enrolment.id)
                keys = [func.coalesce(awaiting.c.awaiting_review, 0)]
            case CohortSort.OTJ_BEHIND:
                otj = EnrolmentOtjHours
                statement = statement.outerjoin(otj, otj.enrolment_id == Enrolment.id)
                behind = _expected_hours(self.today) - func.coalesce(otj.logged, 0)
                keys = [case((training, behind), else_=None)]
            case CohortSort.NEXT_REVIEW:
                reviews = _last_reviews(in_scope)
                statement = statement.outerjoin(reviews, reviews.c.enrolment_id == Enrolment.id)
                keys = [case((training, _next_review_due(review_base_clause(reviews.c.last_review))))]
        ordered = [(key.desc() if descending else key.asc()).nulls_last() for key in keys]
        ordered += [User.name.desc() if descending and sort is CohortSort.APPRENTICE else User.name.asc(), Enrolment.id]
        statement = statement.add_columns(func.row_number().over(order_by=ordered).label("position")).order_by(*ordered)
        return statement.offset(offset).limit(limit) if limit is not None else statement

    def row(self, r: Any) -> CohortRow:
        pause = Pause.of_totals(r.start_date, r.paused_days, r.paused_since)
        expected = expected_hours(r.planned_otj_hours, r.start_date, r.planned_end_date, self.today, pause)
        logged = _hours(r.otj_logged)
        due = review_due(r.status, r.resumed_on or r.start_date, r.last_review, r.review_interval, self.today)
        return CohortRow(
            **attributes(r, *_COPIED_ROW_FIELDS),
            enrolment_id=r.id,
            criteria_total=self.totals.get(r.standard_version_id, 0),
            otj_logged=logged,
            otj_approved=_hours(r.otj_approved),
            otj_planned=r.planned_otj_hours,
            otj_expected=expected,
            next_review_due=due.due if due else None,
            review_overdue=bool(due and due.overdue),
            otj_behind=r.status in IN_TRAINING and logged < expected,
        )


# --- Aggregates, one row per enrolment of the cohort --------------------------------------


def _awaiting_review(ids):
    """Evidence items submitted and not yet decided."""
    submitted = case((EvidenceItem.status == EvidenceStatus.SUBMITTED, EvidenceItem.id))
    return (
        select(EvidenceItem.enrolment_id, func.count(submitted).label("awaiting_review"))
        .where(EvidenceItem.enrolment_id.in_(ids))
        .group_by(EvidenceItem.enrolment_id)
        .subquery("awaiting")
    )


def _last_reviews(ids):
    """The date of the newest complete progress review."""
    complete = case((ProgressReview.completed_at.is_not(None), ProgressReview.review_date))
    return (
        select(ProgressReview.enrolment_id, func.max(complete).label("last_review"))
        .where(ProgressReview.enrolment_id.in_(ids))
        .group_by(ProgressReview.enrolment_id)
        .subquery("last_reviews")
    )


# --- The per-row arithmetic again, in SQL, for sorting the whole filtered set ----------------


def _share(count, total):
    """count / total, as a float; 0 when the standard has no criteria."""
    return cast(func.coalesce(count, 0), Float) / case((total > 0, total), else_=1)


def _expected_hours(today: date):
    """otj.expected_hours() unrounded, for sorting: planned hours x elapsed days (clamped) / total days."""
    # Less the days of breaks in learning, as otj.Pause: those ended, and one under way until today.
    ongoing = case((Enrolment.paused_since.is_(None), 0), else_=_DaysBetween(_date(today), Enrolment.paused_since))
    total_days = _DaysBetween(Enrolment.planned_end_date, Enrolment.start_date) - Enrolment.paused_days
    elapsed = _DaysBetween(_date(today), Enrolment.start_date) - Enrolment.paused_days - ongoing
    clamped = case((elapsed <= 0, 0), (elapsed >= total_days, total_days), else_=elapsed)
    return case(
        (total_days <= 0, cast(Enrolment.planned_otj_hours, Float)),
        else_=cast(Enrolment.planned_otj_hours, Float) * clamped / total_days,
    )


def _next_review_due(base):
    """progress_reviews.next_review_due() for every interval the enrolments may have."""
    whens = []
    for interval, (unit, amount) in REVIEW_INTERVALS.items():
        shifted = _AddDays(base, _number(amount)) if unit == "days" else _AddMonths(base, _number(amount))
        whens.append((Enrolment.review_interval == interval, shifted))
    return case(*whens)


def _date(day: date):
    """A date as a typed bound value (a date on PostgreSQL, ISO text on SQLite)."""
    return bindparam("today", day, type_=Date())


def _number(value: int):
    return literal_column(str(int(value)), Integer())


class _DaysBetween(FunctionElement):
    """Whole days from the second date to the first."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


class _AddDays(FunctionElement):
    type = Date()
    inherit_cache = True
    name = "add_days"


class _AddMonths(FunctionElement):
    """Calendar months on, the day clamped to the month's end (as PostgreSQL does)."""

    type = Date()
    inherit_cache = True
    name = "add_months"


def _sqlite_add_months(day, months):
    # SQLite rolls 30 Nov + 3 months over to 2 March; the last day of the target month caps it.
    months = int(months)
    return f"min(date({day}, '+{months} months'), date({day}, 'start of month', '+{months + 1} months', '-1 day'))"


# How each function is written from its arguments' SQL: on PostgreSQL (any dialect), and on SQLite.
# The counts arrive as literal numbers (see _number), never as bound parameters.
_WRITTEN_AS = (
    (_DaysBetween, (), lambda later, earlier: f"({later} - {earlier})"),
    (_DaysBetween, ("sqlite",), lambda later, earlier: f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"),
    (_AddDays, (), lambda day, days: f"({day} + {days})"),
    (_AddDays, ("sqlite",), lambda day, days: f"date({day}, '+{int(days)} days')"),
    (_AddMonths, (), lambda day, months: f"CAST({day} + INTERVAL '{int(months)} months' AS DATE)"),
    (_AddMonths, ("sqlite",), _sqlite_add_months),
)


def _register(element: type[FunctionElement], dialect: tuple[str, ...], render) -> None:
    @compiles(element, *dialect)
    def compile_(element, compiler, **kw):
        return render(*(compiler.process(clause, **kw) for clause in element.clauses))


for _element, _dialect, _render in _WRITTEN_AS:
    _register(_element, _dialect, _render)


def _hours(value: Any) -> Decimal:
    """A database sum as hours: SQLite may hand back a float, PostgreSQL a Decimal."""
    return Decimal(str(value or 0)).quantize(CENT, ROUND_HALF_UP)
