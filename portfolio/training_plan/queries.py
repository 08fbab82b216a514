"""What the agreements' pages read, in a fixed number of queries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..models import AgreementSignature, SkillsScan, TrainingPlan


def scan_versions(session: Session, enrolment_id: int) -> list[SkillsScan]:
    """Every version of the enrolment's skills scan, the newest first, with what its page shows."""
    return list(
        session.scalars(
            select(SkillsScan)
            .where(SkillsScan.enrolment_id == enrolment_id)
            .order_by(SkillsScan.number.desc())
            .options(
                selectinload(SkillsScan.ratings),
                selectinload(SkillsScan.prior_learning),
                selectinload(SkillsScan.signatures).joinedload(AgreementSignature.user),
                joinedload(SkillsScan.rated_by),
                joinedload(SkillsScan.confirmed_by),
                joinedload(SkillsScan.prior_learning_by),
            )
        )
    )


def plan_versions(session: Session, enrolment_id: int) -> list[TrainingPlan]:
    """Every version of the enrolment's training plan, the newest first, with what its page shows."""
    return list(
        session.scalars(
            select(TrainingPlan)
            .where(TrainingPlan.enrolment_id == enrolment_id)
            .order_by(TrainingPlan.number.desc())
            .options(
                selectinload(TrainingPlan.activities),
                selectinload(TrainingPlan.signatures).joinedload(AgreementSignature.user),
                joinedload(TrainingPlan.created_by),
            )
        )
    )


def current_scan_with_signatures(session: Session, enrolment_id: int) -> SkillsScan | None:
    """The newest version of the skills scan with its signatures and their signers (two queries)."""
    return session.scalar(
        select(SkillsScan)
        .where(SkillsScan.enrolment_id == enrolment_id)
        .order_by(SkillsScan.number.desc())
        .limit(1)
        .options(selectinload(SkillsScan.signatures).joinedload(AgreementSignature.user))
    )
