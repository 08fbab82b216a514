"""What the evidence review pages read."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.access import visible_evidence_clause
from ..models import CriterionLink, EvidenceItem, EvidenceStatus, User


def evidence_for_criterion(session: Session, user: User, enrolment_id: int, code: str) -> list[EvidenceItem]:
    """The enrolment's evidence `user` may see that claims the criterion, withdrawn items left out,
    the latest activity first."""
    return session.scalars(
        select(EvidenceItem)
        .join(EvidenceItem.enrolment)
        .where(
            visible_evidence_clause(user),
            EvidenceItem.enrolment_id == enrolment_id,
            EvidenceItem.status != EvidenceStatus.WITHDRAWN,
            EvidenceItem.links.any(CriterionLink.criterion_code == code),
        )
        .order_by(EvidenceItem.activity_date.desc(), EvidenceItem.id.desc())
    ).all()
