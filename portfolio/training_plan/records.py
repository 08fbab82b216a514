"""The skills scan and the training plan as exports show them: every version, as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from standard import Signer

from ..models import AgreementSignature, ScanRating
from .agreements import SIGNERS, fingerprint_matches, signed_content
from .queries import plan_versions, scan_versions


@dataclass(frozen=True)
class SignatureRecord:
    signer: Signer
    by: str
    signed_at: datetime
    fingerprint: str
    content: dict[str, Any] | None  # what was signed, as stored with the signature (None: unreadable)
    fingerprint_matches: bool  # the fingerprint recomputed from `content` is the one recorded


def signature_record(s: AgreementSignature) -> SignatureRecord:
    return SignatureRecord(s.signer, s.user.name, s.signed_at, s.fingerprint, signed_content(s), fingerprint_matches(s))


@dataclass(frozen=True)
class ScanRecord:
    number: int
    agreed_at: datetime | None
    ratings: tuple[tuple[str, ScanRating, str, ScanRating | None, str], ...]  # code, rating, note, employer's, note
    prior_learning_hours: int
    prior_learning_months: int
    prior_learning_summary: str
    prior_learning: tuple[tuple[str, str], ...]  # (criterion or area, reason)
    signatures: tuple[SignatureRecord, ...]

    @property
    def awaiting(self) -> list[Signer]:
        signed = {s.signer for s in self.signatures}
        return [signer for signer in SIGNERS if signer not in signed]


def scan_records(session: Session, enrolment_id: int) -> tuple[ScanRecord, ...]:
    """Every version of the skills scan, the oldest first (the queries of `scan_versions`)."""
    return tuple(
        ScanRecord(
            number=scan.number,
            agreed_at=scan.agreed_at,
            ratings=tuple(
                (r.criterion_code, r.rating, r.note, r.employer_rating, r.employer_note) for r in scan.ratings
            ),
            prior_learning_hours=scan.prior_learning_hours,
            prior_learning_months=scan.prior_learning_months,
            prior_learning_summary=scan.prior_learning_summary,
            prior_learning=tuple((p.subject, p.reason) for p in scan.prior_learning),
            signatures=tuple(signature_record(s) for s in scan.signatures),
        )
        for scan in reversed(scan_versions(session, enrolment_id))
    )


@dataclass(frozen=True)
class ActivityRecord:
    description: str
    starts_on: date
    ends_on: date
    hours: Decimal
    criteria: tuple[str, ...]


@dataclass(frozen=True)
class PlanRecord:
    number: int
    created_at: datetime
    agreed_at: datetime | None
    english_maths_plan: str
    activities: tuple[ActivityRecord, ...]
    signatures: tuple[SignatureRecord, ...]

    @property
    def total_hours(self) -> Decimal:
        return sum((a.hours for a in self.activities), Decimal(0))

    @property
    def awaiting(self) -> list[Signer]:
        signed = {s.signer for s in self.signatures}
        return [signer for signer in SIGNERS if signer not in signed]


def plan_record(plan) -> PlanRecord:
    return PlanRecord(
        number=plan.number,
        created_at=plan.created_at,
        agreed_at=plan.agreed_at,
        english_maths_plan=plan.english_maths_plan,
        activities=tuple(
            ActivityRecord(a.description, a.starts_on, a.ends_on, Decimal(a.hours), tuple(a.codes))
            for a in plan.activities
        ),
        signatures=tuple(signature_record(s) for s in plan.signatures),
    )


def plan_records(session: Session, enrolment_id: int) -> tuple[PlanRecord, ...]:
    """Every version of the training plan, the oldest first (the queries of `plan_versions`)."""
    return tuple(plan_record(plan) for plan in reversed(plan_versions(session, enrolment_id)))
