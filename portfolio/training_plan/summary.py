"""The agreements at a glance, for the enrolment page's summary card."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..core.access import SIGNER_LABELS
from ..models import Enrolment, SkillsScan
from .agreements import signatures_by_signer
from .queries import current_scan_with_signatures
from .skills_scan import status_text


@dataclass(frozen=True)
class ScanSummary:
    scan: SkillsScan | None
    status: str
    signed: list[str]  # who signed the current version, and for which party


def scan_summary(session: Session, enrolment: Enrolment) -> ScanSummary:
    scan = current_scan_with_signatures(session, enrolment.id)
    signatures = signatures_by_signer(scan) if scan else {}
    signed = [f"{s.user.name} (for {SIGNER_LABELS[signer]})" for signer, s in signatures.items()]
    return ScanSummary(scan, status_text(scan), signed)
