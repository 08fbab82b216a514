"""The review queue: submitted evidence waiting for a tutor's decision, filtered and counted.

A tutor sees their provider's queue, by default only their own apprentices ("mine"), the longest
waiting first. Each filter shows how many items it would leave given the other filters chosen;
two grouped queries give every count whatever the size of the queue.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace

from sqlalchemy import ColumnElement, Select, false, func, select, tuple_
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from ..core.access import visible_evidence_clause
from ..models import (
    CriterionLink,
    Enrolment,
    EnrolmentStatus,
    EvidenceItem,
    EvidenceStatus,
    EvidenceStatusChange,
    Organisation,
    Role,
    User,
)


@dataclass(frozen=True)
class QueueFilters:
    """What the queue is narrowed to; None is any."""

    tutor: int | None = None  # the apprentices' tutor (the tutor's own id is "mine")
    apprentice: int | None = None
    employer: int | None = None
    criterion: str | None = None
    resubmission: bool | None = None  # True: resubmissions only; never False
    newest_first: bool = False

    @property
    def chosen(self) -> dict[str, int | str | bool]:
        """The narrowing filters chosen, by name (the order is not one)."""
        return {
            f.name: value
            for f in fields(self)
            if f.name != "newest_first" and (value := getattr(self, f.name)) is not None
        }

    @classmethod
    def from_args(cls, args: Mapping[str, str], me: User, options: QueueOptions | None = None) -> QueueFilters:
        """The filters a query string asks for: a tutor's own apprentices unless it names another
        tutor or any ("tutor" sent empty); ids not among `options` (when given), and anything
        unknown, are ignored."""

        def chosen(name: str, allowed: Iterable[int] | None) -> int | None:
            value = args.get(name, "")
            number = int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None
            return number if number is not None and (allowed is None or number in set(allowed)) else None

        criterion = args.get("criterion", "")
        return cls(
            tutor=chosen("tutor", options and [t.id for t in options.tutors]) if "tutor" in args else me.id,
            apprentice=chosen("apprentice", options and [a.id for a in options.apprentices]),
            employer=chosen("employer", options and [e.id for e in options.employers]),
            criterion=criterion if CRITERION_CODE.fullmatch(criterion) else None,
            resubmission=True if args.get("resubmissions") == "1" else None,
            newest_first=args.get("sort") == "newest",
        )

    def args(self, **changes: object) -> dict[str, str | int]:
        """The query string that shows these filters again (the tutor always, empty for any)."""
        filters = replace(self, **changes) if changes else self
        args: dict[str, str | int] = {"tutor": filters.tutor if filters.tutor is not None else ""}
        for name in ("apprentice", "employer", "criterion"):
            if (value := getattr(filters, name)) is not None:
                args[name] = value
        if filters.resubmission:
            args["resubmissions"] = 1
        if filters.newest_first:
            args["sort"] = "newest"
        return args


FACETS = ("tutor", "apprentice", "employer", "criterion", "resubmission")
CRITERION_CODE = re.compile(r"[A-Za-z]{1,4}[0-9]{1,4}")


def review_queue(tutor: User, filters: QueueFilters = QueueFilters()) -> Select:
    """Submitted evidence of the tutor's provider's enrolments, the longest waiting first."""
    order = (EvidenceItem.submitted_at.desc(), EvidenceItem.id.desc()) if filters.newest_first else (
        EvidenceItem.submitted_at,
        EvidenceItem.id,
    )  # fmt: skip
    statement = (
        select(EvidenceItem)
        .join(EvidenceItem.enrolment)
        .where(queue_clause(tutor), *_narrowing(filters))
        .options(
            contains_eager(EvidenceItem.enrolment).joinedload(Enrolment.apprentice),
            contains_eager(EvidenceItem.enrolment).joinedload(Enrolment.employer),
            contains_eager(EvidenceItem.enrolment).joinedload(Enrolment.tutor),
            joinedload(EvidenceItem.reviewer),
            selectinload(EvidenceItem.links),
        )
        .order_by(*order)
    )
    return statement


def queue_clause(tutor: User) -> ColumnElement[bool]:
    """Submitted items the tutor's provider has to decide; a withdrawn apprenticeship's wait no more."""
    if tutor.role is not Role.TUTOR:
        return false()
    return (
        visible_evidence_clause(tutor)
        & (EvidenceItem.status == EvidenceStatus.SUBMITTED)
        & (Enrolment.status != EnrolmentStatus.WITHDRAWN)
    )


def _narrowing(filters: QueueFilters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if filters.tutor is not None:
        clauses.append(Enrolment.tutor_id == filters.tutor)
    if filters.apprentice is not None:
        clauses.append(Enrolment.apprentice_id == filters.apprentice)
    if filters.employer is not None:
        clauses.append(Enrolment.employer_id == filters.employer)
    if filters.criterion is not None:
        clauses.append(EvidenceItem.links.any(CriterionLink.criterion_code == filters.criterion))
    if filters.resubmission:
        clauses.append(EvidenceItem.attempt > 1)
    return clauses


# The choices and their counts ---------------------------------------------------------------


@dataclass(frozen=True)
class QueueOptions:
    """Who and what the queue can be filtered by: the provider's tutors, and the employers and
    apprentices of its enrolments."""

    tutors: list[User]
    employers: list[Organisation]
    apprentices: list[User]


def queue_options(session: Session, tutor: User) -> QueueOptions:
    """The tutors, employers and apprentices of the tutor's provider (three queries)."""
    provider_enrolments = select(Enrolment).where(Enrolment.provider_id == tutor.organisation_id).subquery()
    tutors = tutors_of(session, tutor.organisation_id)
    employers = session.scalars(
        select(Organisation)
        .where(Organisation.id.in_(select(provider_enrolments.c.employer_id)))
        .order_by(Organisation.name)
    ).all()
    apprentices = session.scalars(
        select(User).where(User.id.in_(select(provider_enrolments.c.apprentice_id))).order_by(User.name, User.id)
    ).all()
    return QueueOptions(tutors, list(employers), list(apprentices))


def tutors_of(session: Session, provider_id: int | None, *, active_only: bool = False) -> list[User]:
    """The provider's tutors (with a deactivated one's apprentices still to filter by), by name
    (one query)."""
    statement = select(User).where(User.organisation_id == provider_id, User.role == Role.TUTOR)
    if active_only:
        statement = statement.where(User.active)
    return list(session.scalars(statement.order_by(User.name, User.id)))


@dataclass(frozen=True)
class _Group:
    """How many waiting items share one enrolment's tutor, apprentice and employer, whether they
    are resubmissions, and (in the criterion grouping) one criterion they claim."""

    tutor: int | None
    apprentice: int
    employer: int
    resubmission: bool
    criterion: str | None
    count: int

    def matches(self, chosen: Mapping[str, object]) -> bool:
        """Whether the group is of the `chosen` filters' values (QueueFilters.chosen, or part of it)."""
        return all(getattr(self, name) == value for name, value in chosen.items())


@dataclass(frozen=True)
class QueueCounts:
    """The number of items each filter's choices would show, the other filters as chosen."""

    total: int
    by: dict[str, Counter]

    def of(self, facet: str, value: object) -> int:
        return self.by[facet][value]


def queue_counts(session: Session, tutor: User, filters: QueueFilters) -> QueueCounts:
    """Each filter choice's count given the other filters (two grouped queries)."""
    resubmission = EvidenceItem.attempt > 1
    keys = (Enrolment.tutor_id, Enrolment.apprentice_id, Enrolment.employer_id, resubmission)
    base = select(*keys, func.count(EvidenceItem.id)).join(EvidenceItem.enrolment).where(queue_clause(tutor))
    items = [_Group(t, a, e, bool(r), None, n) for t, a, e, r, n in session.execute(base.group_by(*keys))]
    by_code = (
        select(CriterionLink.criterion_code, *keys, func.count(EvidenceItem.id))
        .select_from(EvidenceItem)
        .join(EvidenceItem.enrolment)
        .join(CriterionLink, CriterionLink.item_id == EvidenceItem.id)
        .where(queue_clause(tutor))
        .group_by(CriterionLink.criterion_code, *keys)
    )
    claims = [_Group(t, a, e, bool(r), code, n) for code, t, a, e, r, n in session.execute(by_code)]
    return _counted(items, claims, filters)


def _counted(items: Sequence[_Group], claims: Sequence[_Group], filters: QueueFilters) -> QueueCounts:
    # Once a criterion is chosen, only the items claiming it count: their groups by that code.
    groups = claims if filters.criterion is not None else items
    chosen = filters.chosen
    by: dict[str, Counter] = {}
    for facet in FACETS:
        others = {name: value for name, value in chosen.items() if name != facet}
        counter = by[facet] = Counter()
        for group in claims if facet == "criterion" else groups:
            if group.matches(others):
                counter[getattr(group, facet)] += group.count
    total = sum(group.count for group in groups if group.matches(chosen))
    return QueueCounts(total, by)


def criteria_waiting(counts: QueueCounts) -> list[str]:
    """The criteria codes claimed by waiting items, in the standard's order (K2 before K10)."""
    return sorted(counts.by["criterion"], key=_code_order)


def _code_order(code: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in re.findall(r"\d+|\D+", code))


def previous_feedback(session: Session, items: Iterable[EvidenceItem]) -> dict[int, EvidenceStatusChange]:
    """The latest referral of each resubmitted item, by item id, with who referred it (one query)."""
    ids = [item.id for item in items if item.attempt > 1]  # run even when empty: a fixed count
    latest = (
        select(func.max(EvidenceStatusChange.id))
        .where(EvidenceStatusChange.item_id.in_(ids), EvidenceStatusChange.to_status == EvidenceStatus.REFERRED)
        .group_by(EvidenceStatusChange.item_id)
    )
    changes = session.scalars(
        select(EvidenceStatusChange)
        .where(EvidenceStatusChange.id.in_(latest))
        .options(joinedload(EvidenceStatusChange.changed_by))
    )
    return {change.item_id: change for change in changes}


def neighbours(
    session: Session, tutor: User, item: EvidenceItem, filters: QueueFilters
) -> tuple[EvidenceItem | None, EvidenceItem | None]:
    """The items before and after `item` in the tutor's queue as filtered (two queries); an item
    no longer waiting has none."""
    if item.status is not EvidenceStatus.SUBMITTED or item.submitted_at is None:
        return None, None
    place, here = tuple_(EvidenceItem.submitted_at, EvidenceItem.id), tuple_(item.submitted_at, item.id)
    waiting = select(EvidenceItem).join(EvidenceItem.enrolment).where(queue_clause(tutor), *_narrowing(filters))
    before = session.scalar(
        waiting.where(place < here).order_by(EvidenceItem.submitted_at.desc(), EvidenceItem.id.desc()).limit(1)
    )
    after = session.scalar(waiting.where(place > here).order_by(EvidenceItem.submitted_at, EvidenceItem.id).limit(1))
    return (after, before) if filters.newest_first else (before, after)
