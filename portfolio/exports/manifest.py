"""manifest.json: the machine-readable description of an exported portfolio.

Its shape is the JSON Schema in `manifest.schema.json` beside this module (documented in the
README); `SCHEMA_VERSION` changes whenever that shape does. Paths are relative to the folder
that holds the manifest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..training_plan.records import PlanRecord, ScanRecord, SignatureRecord
from .gather import ExportFile, ExportItem, Portfolio

# 1.1: time_zone. 1.2: breaks in learning, the assessment result, the behaviour verification, the
# skills scans and the training plans.
SCHEMA_VERSION = "1.3"
SCHEMA_PATH = Path(__file__).with_name("manifest.schema.json")
WITHHELD = "third_party_data_without_consent"  # the reason a file is left out


@dataclass(frozen=True)
class Document:
    """A file the export generates (the PDF, the mapping CSV), as listed in the manifest."""

    path: str
    sha256: str
    size: int


def manifest(portfolio: Portfolio, documents: dict[str, Document]) -> dict[str, Any]:
    p = portfolio
    standard = p.standard
    return {
        "schema_version": SCHEMA_VERSION,
        "exported_at": _moment(p.exported_at),
        "time_zone": p.time_zone,
        "enrolment": {
            "id": p.enrolment_id,
            "status": p.status.value,
            "start_date": p.start_date.isoformat(),
            "planned_end_date": p.planned_end_date.isoformat(),
            "planned_otj_hours": p.planned_otj_hours,
            "breaks_in_learning": [
                {
                    "starts_on": b.starts_on.isoformat(),
                    "expected_return_on": b.expected_return_on.isoformat(),
                    "returned_on": b.returned_on.isoformat() if b.returned_on else None,
                    "reason": b.reason,
                    "planned_end_before": b.planned_end_before.isoformat() if b.planned_end_before else None,
                    "planned_end_after": b.planned_end_after.isoformat() if b.planned_end_after else None,
                }
                for b in p.breaks
            ],
        },
        "apprentice": {"name": p.apprentice},
        "organisations": {
            "employer": {"name": p.employer},
            "provider": {"name": p.provider},
            "epao": {"name": p.epao} if p.epao else None,
        },
        "standard": {
            "reference": standard.reference,
            "title": standard.title,
            "level": standard.level,
            "version": standard.version,
            "content_hash": p.standard_hash,
            "criteria": [{"code": c.code, "kind": c.kind.value, "area": c.area, "text": c.text} for c in standard],
        },
        "fingerprint": p.fingerprint,
        "documents": {name: vars(document) for name, document in documents.items()},
        "items": [_item(item) for item in p.items],
        "judgements": [
            {
                "code": j.code,
                "level": j.level,
                "label": j.label,
                "met": j.met,
                "judged_by": j.by,
                "judged_at": _moment(j.at),
                "note": j.note,
            }
            for j in p.judgements.values()
        ],
        "declarations": [
            {
                "attempt": d.attempt,
                "signer": d.signer.value,
                "signed_by": d.by,
                "statement": d.statement,
                "signed_at": _moment(d.signed_at),
                "fingerprint": d.fingerprint,
                "matches_portfolio": d.matches_portfolio,
            }
            for d in p.declarations
        ],
        "submissions": [
            {
                "number": s.number,
                "epao": s.epao,
                "submitted_by": s.submitted_by,
                "submitted_at": _moment(s.submitted_at),
                "fingerprint": s.fingerprint,
                "outcome": s.outcome.value,
                "decided_by": s.decided_by,
                "decided_at": _moment(s.decided_at) if s.decided_at else None,
                "note": s.note,
                "item_decisions": [{"item": d.item, "accepted": d.accepted, "reason": d.reason} for d in s.decisions],
            }
            for s in p.submissions
        ],
        "assessment": {
            "plan": p.assessment_plan.plan if p.assessment_plan else None,
            "plan_confirmed": p.assessment_plan.fully_confirmed if p.assessment_plan else None,
            "attempts": [
                {
                    "number": a.number,
                    "kind": a.kind.value,
                    "epao": a.epao,
                    "grade": a.grade,
                    "passed": a.passed,
                    "recorded_by": a.recorded_by,
                    "recorded_at": _moment(a.recorded_at),
                    "note": a.note,
                    "methods": [
                        {
                            "code": m.code,
                            "name": m.name,
                            "grade": m.grade,
                            "passed": m.passed,
                            "assessed_on": m.assessed_on.isoformat(),
                            "carried_over": m.carried_over,
                            "note": m.note,
                        }
                        for m in a.methods
                    ],
                }
                for a in p.assessments
            ],
        },
        "behaviour_verification": _behaviour_verification(p),
        "skills_scans": [_scan(scan) for scan in p.skills_scans],
        "training_plans": [_plan(plan) for plan in p.training_plans],
    }


def manifest_bytes(portfolio: Portfolio, documents: dict[str, Document]) -> bytes:
    return json.dumps(manifest(portfolio, documents), indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _item(item: ExportItem) -> dict[str, Any]:
    return {
        "number": item.number,
        "id": item.id,
        "title": item.title,
        "kind": item.kind.value,
        "activity_date": item.activity_date.isoformat(),
        "status": item.status.value,
        "description": item.description,
        "reflection": item.reflection,
        "author": item.author,
        "contains_third_party_data": item.contains_third_party_data,
        "consent_reference": item.consent_reference,
        "witness": {
            "name": item.witness.name,
            "job_title": item.witness.job_title,
            "signed_at": _moment(item.witness.signed_at),
        }
        if item.witness
        else None,
        "files": [_file(f) for f in item.files],
        "links": [
            {
                "code": link.code,
                "justification": link.justification,
                "decision": link.decision.value if link.decision else None,
                "feedback": link.feedback,
                "decided_by": link.decided_by or None,
                "decided_at": _moment(link.decided_at) if link.decided_at else None,
            }
            for link in item.links
        ],
        "history": [
            {
                "from": change.from_status.value if change.from_status else None,
                "to": change.to_status.value,
                "by": change.by,
                "at": _moment(change.at),
                "note": change.note,
            }
            for change in item.history
        ],
    }


def _behaviour_verification(p: Portfolio) -> dict[str, Any]:
    newest = p.behaviour_verification
    return {
        "required": p.verifies_behaviours,
        "newest": {
            "signed_by": newest.signed_by,
            "signed_at": _moment(newest.signed_at),
            "fingerprint": newest.fingerprint,
            "fingerprint_matches": newest.intact,
            "all_confirmed": not newest.not_yet,
            "earlier_verifications": newest.earlier,
            "behaviours": [
                {"code": b.code, "statement": b.statement, "decision": b.decision, "note": b.note}
                for b in newest.behaviours
            ],
        }
        if newest
        else None,
    }


def _scan(scan: ScanRecord) -> dict[str, Any]:
    return {
        "version": scan.number,
        "agreed_at": _moment(scan.agreed_at) if scan.agreed_at else None,
        "ratings": [
            {
                "code": code,
                "rating": rating.value,
                "note": note,
                "employer_rating": employer.value if employer else None,
                "employer_note": employer_note,
            }
            for code, rating, note, employer, employer_note in scan.ratings
        ],
        "prior_learning": {
            "otj_hours": scan.prior_learning_hours,
            "months": scan.prior_learning_months,
            "summary": scan.prior_learning_summary,
            "items": [{"subject": subject, "reason": reason} for subject, reason in scan.prior_learning],
        },
        "signatures": [_signature(s) for s in scan.signatures],
    }


def _plan(plan: PlanRecord) -> dict[str, Any]:
    return {
        "version": plan.number,
        "made_at": _moment(plan.created_at),
        "agreed_at": _moment(plan.agreed_at) if plan.agreed_at else None,
        "activities": [
            {
                "description": a.description,
                "starts_on": a.starts_on.isoformat(),
                "ends_on": a.ends_on.isoformat(),
                "hours": f"{a.hours:.2f}",
                "criteria": list(a.criteria),
            }
            for a in plan.activities
        ],
        "english_maths_plan": plan.english_maths_plan,
        "signatures": [_signature(s) for s in plan.signatures],
    }


def _signature(s: SignatureRecord) -> dict[str, Any]:
    return {
        "signer": s.signer.value,
        "signed_by": s.by,
        "signed_at": _moment(s.signed_at),
        "fingerprint": s.fingerprint,
        "content": s.content,
        "fingerprint_matches": s.fingerprint_matches,
    }


def _file(evidence_file: ExportFile) -> dict[str, Any]:
    return {
        "name": evidence_file.name,
        "path": evidence_file.path,
        "sha256": evidence_file.sha256,
        "size": evidence_file.size,
        "media_type": evidence_file.media_type,
        "excluded": None if evidence_file.path else WITHHELD,
    }


def _moment(moment: datetime) -> str:
    """UTC, whatever zone the PDF shows times in: programs compare these, people read the PDF."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
