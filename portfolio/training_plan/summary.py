"""The agreements at a glance, for the enrolment page's summary card."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from standard import Signer

from ..core.access import SIGNER_LABELS
from ..models import AgreementSignature, Enrolment, SkillsScan, TrainingPlan
from . import plan as training_plan
from .agreements import signatures_by_signer
from .queries import current_plan_with_signatures, current_scan_with_signatures
from .skills_scan import status_text


@dataclass(frozen=True)
class ScanSummary:
    scan: SkillsScan | None
    status: str
    signed: list[str]  # who signed the current version, and for which party


def scan_summary(session: Session, enrolment: Enrolment) -> ScanSummary:
    scan = current_scan_with_signatures(session, enrolment.id)
    return ScanSummary(scan, status_text(scan), _signed(signatures_by_signer(scan) if scan else {}))


@dataclass(frozen=True)
class PlanSummary:
    plan: TrainingPlan | None
    status: str
    signed: list[str]


def plan_summary(session: Session, enrolment: Enrolment) -> PlanSummary:
    """The current training plan's status and signatures (two queries, and its activities' one)."""
    plan = current_plan_with_signatures(session, enrolment.id)
    return PlanSummary(plan, training_plan.status_text(plan), _signed(signatures_by_signer(plan) if plan else {}))


def _signed(signatures: dict[Signer, AgreementSignature]) -> list[str]:
    return [f"{s.user.name} (for {SIGNER_LABELS[signer]})" for signer, s in signatures.items()]
