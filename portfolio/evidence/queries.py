"""What the evidence pages read: the library with its filters, and the criteria tree's latest items."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from ..core.access import evidence_visible_to, visible_evidence_clause
from ..models import User
from ..models.evidence import CriterionLink, EvidenceItem, EvidenceKind, EvidenceStatus


def library_items(
    user: User,
    enrolment_id: int,
    *,
    text: str = "",
    kind: EvidenceKind | None = None,
    status: EvidenceStatus | None = None,
    criterion: str = "",
) -> Select:
    """The enrolment's evidence `user` may see, narrowed by each filter given, the latest activity first."""
    statement = (
        evidence_visible_to(user)
        .where(EvidenceItem.enrolment_id == enrolment_id)
        .options(selectinload(EvidenceItem.links), selectinload(EvidenceItem.files))
    )
    if text:
        statement = statement.where(
            EvidenceItem.title.icontains(text, autoescape=True)
            | EvidenceItem.description.icontains(text, autoescape=True)
        )
    if kind is not None:
        statement = statement.where(EvidenceItem.kind == kind)
    if status is not None:
        statement = statement.where(EvidenceItem.status == status)
    if criterion:
        statement = statement.where(EvidenceItem.links.any(CriterionLink.criterion_code == criterion))
    return statement.order_by(EvidenceItem.activity_date.desc(), EvidenceItem.id.desc())


def latest_items_by_criterion(session: Session, user: User, enrolment_id: int, shown: int) -> dict[str, list]:
    """For each criterion, the latest `shown` items `user` may see that claim it (withdrawn ones
    left out), with how many there are in all (`total`), in one query."""
    newest_first = (EvidenceItem.activity_date.desc(), EvidenceItem.id.desc())
    linked = (
        select(
            CriterionLink.criterion_code.label("code"),
            EvidenceItem.id,
            EvidenceItem.title,
            EvidenceItem.status,
            func.row_number().over(partition_by=CriterionLink.criterion_code, order_by=newest_first).label("rank"),
            func.count().over(partition_by=CriterionLink.criterion_code).label("total"),
        )
        .join(CriterionLink.item)
        .join(EvidenceItem.enrolment)
        .where(
            visible_evidence_clause(user),
            EvidenceItem.enrolment_id == enrolment_id,
            EvidenceItem.status != EvidenceStatus.WITHDRAWN,
        )
        .subquery()
    )
    rows = session.execute(select(linked).where(linked.c.rank <= shown).order_by(linked.c.code, linked.c.rank))
    items_by_code: dict[str, list] = {}
    for row in rows:
        items_by_code.setdefault(row.code, []).append(row)
    return items_by_code
