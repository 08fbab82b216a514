"""Each enrolment's coverage counts (criteria evidenced, accepted, judged met), kept in
`enrolment_coverage` so that the cohort table can sort a large cohort by coverage cheaply.

The counts are derived data. Rather than trust every domain function to remember them, a
session hook recounts, in the same transaction, the enrolments whose evidence items, criterion
links or judgements a flush touched. Bulk inserts bypass the ORM's flush, so whoever loads
data that way calls `recount_all` afterwards (the benchmarks and the cohort tests do).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain

from sqlalchemy import Connection, case, delete, distinct, event, func, insert, literal_column, select, union_all
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.attributes import instance_state

from standard import Status

from .evidence_items import COVERAGE_FROM
from .models import CriterionJudgement, CriterionLink, Enrolment, EnrolmentCoverage, EvidenceItem


def counts(ids):
    """Criteria at least evidenced, at least accepted, and judged met, per enrolment in `ids`.

    The same rule as `evidence_items.criterion_statuses` and `standard.roll_up`: a criterion takes
    the highest level its evidence (submitted or referred 1, accepted 2) or its current judgement
    (met 3) gives it. `ids` is a subquery or a list of enrolment ids.
    """
    # Statuses are told apart by CASE rather than filtered in WHERE so that the planner looks
    # rows up by enrolment (SQLite would otherwise prefer the status index).
    evidence_level = case(*((EvidenceItem.status == status, level.value) for status, level in COVERAGE_FROM.items()))
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


def recount(connection: Connection, enrolment_ids: Iterable[int]) -> None:
    """Replace the stored counts of these enrolments with fresh ones."""
    ids = sorted(set(enrolment_ids))
    if not ids:
        return
    # Lock the enrolments first (PostgreSQL; SQLite serialises writers anyway), in id order, so
    # that two transactions changing one portfolio recount one after the other, each seeing the
    # other's committed change, rather than the later overwriting with counts that miss it.
    connection.execute(select(Enrolment.id).where(Enrolment.id.in_(ids)).order_by(Enrolment.id).with_for_update())
    _replace(connection, ids)


def recount_all(session: Session) -> None:
    """Recount every enrolment (after bulk loading, or to repair the table)."""
    connection = session.connection()
    connection.execute(delete(EnrolmentCoverage))
    _insert(connection, select(Enrolment.id))


def _replace(connection: Connection, ids: list[int]) -> None:
    connection.execute(delete(EnrolmentCoverage).where(EnrolmentCoverage.enrolment_id.in_(ids)))
    _insert(connection, ids)


def _insert(connection: Connection, ids) -> None:
    columns = ["enrolment_id", "evidenced", "accepted", "met"]
    connection.execute(insert(EnrolmentCoverage).from_select(columns, counts(ids)))


def keep_counts() -> None:
    """Recount after every flush of any session (called once by the app factory)."""
    if not event.contains(Session, "after_flush", _recount_what_the_flush_touched):
        event.listen(Session, "after_flush", _recount_what_the_flush_touched)


def _recount_what_the_flush_touched(session: Session, flush_context: UOWTransaction) -> None:
    enrolment_ids: set[int] = set()
    item_ids: set[int] = set()
    # After a flush the session still lists what it flushed, with keys assigned. Values are read
    # from each object's loaded state, never loaded afresh (a deleted row cannot be).
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, CriterionJudgement):
            enrolment_ids.add(_loaded(obj, "enrolment_id"))
        elif isinstance(obj, EvidenceItem):
            enrolment_id = _loaded(obj, "enrolment_id")
            if enrolment_id is None:  # expired by a commit and not reloaded: look it up by the item
                item_ids.add(instance_state(obj).identity[0])
            enrolment_ids.add(enrolment_id)
        elif isinstance(obj, CriterionLink):
            item_ids.add(_loaded(obj, "item_id"))
    enrolment_ids.discard(None)
    item_ids.discard(None)
    if not (enrolment_ids or item_ids):
        return
    connection = session.connection()
    if item_ids:
        enrolment_ids.update(
            connection.scalars(select(EvidenceItem.enrolment_id).where(EvidenceItem.id.in_(item_ids))).all()
        )
    recount(connection, enrolment_ids)


def _loaded(obj: object, attribute: str):
    state = instance_state(obj)
    if attribute in state.dict:
        return state.dict[attribute]
    return state.committed_state.get(attribute)
