"""Totals stored per enrolment for the cohort table: coverage counts (criteria evidenced,
accepted, judged met) and off-the-job hours (logged, approved), so that it can sort a large
cohort by them cheaply.

The totals are derived data. Rather than trust every domain function to remember them, a
session hook recounts, in the same transaction, the totals of the enrolments whose evidence
items, criterion links, judgements or OTJ entries a flush touched. Bulk inserts bypass the
ORM's flush, so whoever loads data that way calls `recount_all` afterwards (the benchmarks and
the cohort tests do).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, case, delete, distinct, event, func, insert, literal_column, select, union_all
from sqlalchemy.orm import Session, UOWTransaction

from standard import Status

from ..evidence.items import COVERAGE_FROM
from ..models import (
    CriterionJudgement,
    CriterionLink,
    Enrolment,
    EnrolmentCoverage,
    EnrolmentOtjHours,
    EvidenceItem,
    LinkDecision,
    OtjEntry,
    OtjStatus,
)
from .flushes import enrolments_touched


def coverage_counts(ids):
    """Criteria at least evidenced, at least accepted, and judged met, per enrolment in `ids`.

    The same rule as `evidence_items.criterion_statuses` and `standard.roll_up`: a criterion takes
    the highest level its evidence (submitted or referred 1, accepted 2) or its current judgement
    (met 3) gives it. `ids` is a subquery or a list of enrolment ids.
    """
    # Statuses are told apart by CASE rather than filtered in WHERE so that the planner looks
    # rows up by enrolment (SQLite would otherwise prefer the status index).
    # A criterion accepted on its own (evidence_items.link_coverage) is accepted whatever its item.
    evidence_level = case(
        (
            EvidenceItem.status.in_(COVERAGE_FROM) & (CriterionLink.decision == LinkDecision.ACCEPTED),
            Status.ACCEPTED.value,
        ),
        *((EvidenceItem.status == status, level.value) for status, level in COVERAGE_FROM.items()),
    )
    from_evidence = (
        select(EvidenceItem.enrolment_id, CriterionLink.criterion_code, evidence_level.label("level"))
        .join(CriterionLink, CriterionLink.item_id == EvidenceItem.id)
        .where(EvidenceItem.enrolment_id.in_(ids), evidence_level.is_not(None))
    )
    # Judgements are append-only: the newest (highest id) per criterion is the current one.
    current = (
        select(func.max(CriterionJudgement.id))
        .where(CriterionJudgement.enrolment_id.in_(ids))
        .group_by(CriterionJudgement.enrolment_id, CriterionJudgement.criterion_code)
    )
    from_judgements = select(
        CriterionJudgement.enrolment_id, CriterionJudgement.criterion_code, literal_column(str(Status.MET.value))
    ).where(CriterionJudgement.id.in_(current), CriterionJudgement.met)
    levels = union_all(from_evidence, from_judgements).subquery("criterion_levels")

    def at_least(status: Status):
        return func.count(distinct(case((levels.c.level >= status.value, levels.c.criterion_code))))

    return select(
        levels.c.enrolment_id,
        at_least(Status.EVIDENCED).label("evidenced"),
        at_least(Status.ACCEPTED).label("accepted"),
        # One current judgement per criterion: met ones need no DISTINCT.
        func.count(case((levels.c.level >= Status.MET.value, 1))).label("met"),
    ).group_by(levels.c.enrolment_id)


def otj_hours(ids):
    """Hours logged (every entry, whatever its status) and hours approved, per enrolment in `ids`."""
    return (
        select(
            OtjEntry.enrolment_id,
            func.sum(OtjEntry.hours).label("logged"),
            func.sum(case((OtjEntry.status == OtjStatus.APPROVED, OtjEntry.hours), else_=0)).label("approved"),
        )
        .where(OtjEntry.enrolment_id.in_(ids))
        .group_by(OtjEntry.enrolment_id)
    )


# Each stored table, the aggregate that fills it, and the rows it is counted from.
TOTALS = {
    EnrolmentCoverage: (coverage_counts, (EvidenceItem, CriterionLink, CriterionJudgement)),
    EnrolmentOtjHours: (otj_hours, (OtjEntry,)),
}


def recount(connection: Connection, table, enrolment_ids: Iterable[int]) -> None:
    """Replace one table's totals of these enrolments with fresh ones."""
    ids = sorted(set(enrolment_ids))
    if not ids:
        return
    # Lock the enrolments first (PostgreSQL; SQLite serialises writers anyway), in id order, so
    # that two transactions changing one portfolio recount one after the other, each seeing the
    # other's committed change, rather than the later overwriting with totals that miss it. FOR NO
    # KEY UPDATE, as in lock_and_reload: a row inserted referring to an enrolment holds FOR KEY
    # SHARE on it until commit, and two such transactions taking FOR UPDATE wait for each other.
    connection.execute(
        select(Enrolment.id).where(Enrolment.id.in_(ids)).order_by(Enrolment.id).with_for_update(key_share=True)
    )
    connection.execute(delete(table).where(table.enrolment_id.in_(ids)))
    _insert(connection, table, TOTALS[table][0](ids))


def recount_all(session: Session) -> None:
    """Recount every enrolment (after bulk loading, or to repair the tables)."""
    connection = session.connection()
    for table, (aggregate, _) in TOTALS.items():
        connection.execute(delete(table))
        _insert(connection, table, aggregate(select(Enrolment.id)))


def _insert(connection: Connection, table, rows) -> None:
    connection.execute(insert(table).from_select([c.name for c in table.__table__.columns], rows))


def keep_totals() -> None:
    """Recount after every flush of any session (called once by the app factory)."""
    if not event.contains(Session, "after_flush", _recount_what_the_flush_touched):
        event.listen(Session, "after_flush", _recount_what_the_flush_touched)


def _recount_what_the_flush_touched(session: Session, flush_context: UOWTransaction) -> None:
    for table, (_, sources) in TOTALS.items():
        if enrolment_ids := enrolments_touched(session, sources):
            recount(session.connection(), table, enrolment_ids)
