"""The portfolio's fingerprint: a SHA-256 over everything an assessor would judge.

Declarations record the fingerprint when they are signed, the gateway submission when it is
made, and the export prints it: if any of these differ, the portfolio has changed in between.
The snapshot covers the evidence (every item but private drafts), each item's files by
their hashes, its links with their justifications, its status, and the current criterion
judgements. Nothing else (comments, view times) changes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import CriterionJudgement, CriterionLink, Enrolment, EvidenceFile, EvidenceItem, EvidenceStatus
from .audit import canonical_json


def portfolio_snapshot(session: Session, enrolment: Enrolment) -> dict[str, Any]:
    """The fingerprinted content of an enrolment's portfolio, as plain values (four queries)."""
    return portfolio_snapshots(session, [enrolment])[enrolment.id]


def portfolio_snapshots(session: Session, enrolments: Sequence[Enrolment]) -> dict[int, dict[str, Any]]:
    """`portfolio_snapshot` of many enrolments, by enrolment id, in the same four queries."""
    ids = sorted({enrolment.id for enrolment in enrolments})
    if not ids:
        return {}
    items: dict[int, list[Any]] = {}
    for item in session.execute(
        select(
            EvidenceItem.enrolment_id,
            EvidenceItem.id,
            EvidenceItem.title,
            EvidenceItem.kind,
            EvidenceItem.activity_date,
            EvidenceItem.description,
            EvidenceItem.reflection,
            EvidenceItem.contains_third_party_data,
            EvidenceItem.consent_reference,
            EvidenceItem.status,
        )
        .where(EvidenceItem.enrolment_id.in_(ids), EvidenceItem.status != EvidenceStatus.DRAFT)
        .order_by(EvidenceItem.id)
    ):
        items.setdefault(item.enrolment_id, []).append(item)
    in_portfolio = select(EvidenceItem.id).where(
        EvidenceItem.enrolment_id.in_(ids), EvidenceItem.status != EvidenceStatus.DRAFT
    )
    files: dict[int, list[dict[str, Any]]] = {}
    for f in session.execute(
        select(EvidenceFile.item_id, EvidenceFile.sha256, EvidenceFile.size, EvidenceFile.display_name)
        .where(EvidenceFile.item_id.in_(in_portfolio))
        .order_by(EvidenceFile.id)
    ):
        files.setdefault(f.item_id, []).append({"sha256": f.sha256, "size": f.size, "name": f.display_name})
    links: dict[int, list[dict[str, str]]] = {}
    for link in session.execute(
        select(CriterionLink.item_id, CriterionLink.criterion_code, CriterionLink.justification)
        .where(CriterionLink.item_id.in_(in_portfolio))
        .order_by(CriterionLink.id)
    ):
        links.setdefault(link.item_id, []).append({"code": link.criterion_code, "justification": link.justification})
    newest = (
        select(func.max(CriterionJudgement.id))
        .where(CriterionJudgement.enrolment_id.in_(ids))
        .group_by(CriterionJudgement.enrolment_id, CriterionJudgement.criterion_code)
    )
    judgements: dict[int, list[dict[str, Any]]] = {}
    for j in session.execute(
        select(
            CriterionJudgement.enrolment_id,
            CriterionJudgement.criterion_code,
            CriterionJudgement.level_code,
            CriterionJudgement.met,
        )
        .where(CriterionJudgement.id.in_(newest))
        .order_by(CriterionJudgement.criterion_code)
    ):
        judgements.setdefault(j.enrolment_id, []).append(
            {"code": j.criterion_code, "level": j.level_code, "met": j.met}
        )
    snapshots = {}
    for enrolment in enrolments:
        version = enrolment.standard_version
        snapshots[enrolment.id] = {
            "enrolment": enrolment.id,
            "standard": {
                "reference": version.reference,
                "version": version.version,
                "content_hash": version.content_hash,
            },
            "items": [
                {
                    "id": item.id,
                    "title": item.title,
                    "kind": item.kind,
                    "activity_date": item.activity_date,
                    "description": item.description,
                    "reflection": item.reflection,
                    "contains_third_party_data": item.contains_third_party_data,
                    "consent_reference": item.consent_reference,
                    "status": item.status,
                    "files": files.get(item.id, []),
                    "links": links.get(item.id, []),
                }
                for item in items.get(enrolment.id, [])
            ],
            "judgements": judgements.get(enrolment.id, []),
        }
    return snapshots


def fingerprint(snapshot: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(snapshot).encode("utf-8")).hexdigest()


def portfolio_fingerprint(session: Session, enrolment: Enrolment) -> str:
    """The SHA-256 fingerprint of the enrolment's portfolio as it is now."""
    return fingerprint(portfolio_snapshot(session, enrolment))


def portfolio_fingerprints(session: Session, enrolments: Sequence[Enrolment]) -> dict[int, str]:
    """The fingerprints of many portfolios, by enrolment id (four queries)."""
    return {
        enrolment_id: fingerprint(snapshot)
        for enrolment_id, snapshot in portfolio_snapshots(session, enrolments).items()
    }
