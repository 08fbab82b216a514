"""What the agreements' pages read, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..models import AgreementSignature, PlannedActivity, SkillsScan, TrainingPlan


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


def current_plan_with_signatures(session: Session, enrolment_id: int) -> TrainingPlan | None:
    """The newest version of the training plan with its signatures and their signers (two queries)."""
    return session.scalar(
        select(TrainingPlan)
        .where(TrainingPlan.enrolment_id == enrolment_id)
        .order_by(TrainingPlan.number.desc())
        .limit(1)
        .options(selectinload(TrainingPlan.signatures).joinedload(AgreementSignature.user))
    )


@dataclass(frozen=True)
class AgreedActivities:
    """The activities of the newest agreed version of the training plan, as (first day, last day, hours)."""

    version: int
    activities: tuple[tuple[date, date, Decimal], ...]


def agreed_plan_activities(session: Session, enrolment_id: int) -> AgreedActivities | None:
    """The newest agreed plan's activities, or None if no plan is agreed (one query: an agreed
    plan always has activities, so no rows means no agreed plan)."""
    newest_agreed = (
        select(TrainingPlan.id)
        .where(TrainingPlan.enrolment_id == enrolment_id, TrainingPlan.agreed_at.is_not(None))
        .order_by(TrainingPlan.number.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(
        select(TrainingPlan.number, PlannedActivity.starts_on, PlannedActivity.ends_on, PlannedActivity.hours)
        .join(PlannedActivity, PlannedActivity.training_plan_id == TrainingPlan.id)
        .where(TrainingPlan.id == newest_agreed)
        .order_by(PlannedActivity.id)
    ).all()
    if not rows:
        return None
    return AgreedActivities(rows[0][0], tuple((starts, ends, Decimal(hours)) for _, starts, ends, hours in rows))
