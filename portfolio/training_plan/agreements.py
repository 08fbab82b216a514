"""What the skills scan and the training plan share: numbered versions, and the three parties'
signatures of exactly the content each saw.

A document is changed in its current version until someone signs it; a change after a signature
goes into a new version, copied from the signed one, which keeps its signatures and stays
viewable. A signature records the SHA-256 fingerprint of the version's content as the signer saw
it (the page carries it), so nobody signs content that changed under them; the document is agreed
when the third party signs. Every change takes the enrolment's lock first, then the version's.

Each signature also keeps the content itself (the canonical JSON the fingerprint is computed
from), so that an agreed version is shown exactly as signed, the enrolment's parts included, and
`fingerprint_matches` can check, at any time, that the content stored still has the fingerprint
recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from standard import Signer

from ..core import audit
from ..core.access import SIGNER_LABELS, SIGNING_ROLES, signing_party
from ..core.audit import canonical_json
from ..core.domain import DomainError, lock_enrolment_for_change
from ..core.fingerprint import fingerprint
from ..models import AgreementSignature, Enrolment, EnrolmentStatus, SkillsScan, TrainingPlan, User
from ..models.types import utcnow
from ..notifications.domain import notify, people_of
from ..notifications.kinds import Kind

SIGNERS = (Signer.APPRENTICE, Signer.EMPLOYER, Signer.PROVIDER)
# The agreements are made and changed while the apprenticeship runs (a break included).
OPEN_FOR_AGREEMENTS = (EnrolmentStatus.ON_PROGRAMME, EnrolmentStatus.BREAK_IN_LEARNING)

Document = SkillsScan | TrainingPlan


@dataclass(frozen=True)
class DocumentKind:
    """How the shared mechanism handles one kind of document."""

    model: type[SkillsScan] | type[TrainingPlan]
    name: str  # "skills scan", in sentences
    action: str  # the audit trail's prefix: "skills_scan"
    path: str  # the page's address after /enrolments/<id>/
    snapshot: Callable[[Any], dict[str, Any]]  # the content signed, as plain values
    not_ready: Callable[[Any], str | None]  # why it cannot be signed yet, or None
    copy: Callable[[Any, User], Any]  # a new, unsigned version with the same content
    on_agreed: Callable[[Session, Any, User], None]  # what agreeing it does (may refuse)

    def link(self, document: Document) -> str:
        return f"/enrolments/{document.enrolment_id}/{self.path}"


def content_fingerprint(kind: DocumentKind, document: Document) -> str:
    return fingerprint(kind.snapshot(document))


def signed_content(signature: AgreementSignature) -> dict[str, Any] | None:
    """The content stored with a signature, as plain JSON values, or None if it cannot be read."""
    try:
        content = json.loads(signature.content)
    except (TypeError, ValueError):
        return None
    return content if isinstance(content, dict) else None


def fingerprint_matches(signature: AgreementSignature) -> bool:
    """Whether the fingerprint recomputed from the content stored with the signature is the one
    recorded when it was made: False if either has changed since (or the content cannot be read)."""
    content = signed_content(signature)
    return content is not None and fingerprint(content) == signature.fingerprint


def fingerprint_checks(document: Document) -> dict[Signer, bool]:
    """`fingerprint_matches` of each signature of the version, by party."""
    return {s.signer: fingerprint_matches(s) for s in document.signatures}


def agreed_content(document: Document) -> dict[str, Any] | None:
    """What an agreed version's signatures were given, read back: the content of the first
    signature whose fingerprint still matches, else the first that can be read (the fingerprint
    checks show the mismatch); None while the version is not agreed, or if none can be read."""
    if document.agreed_at is None:
        return None
    readable = [(s, c) for s in document.signatures if (c := signed_content(s)) is not None]
    matching = [c for s, c in readable if fingerprint(c) == s.fingerprint]
    if matching:
        return matching[0]
    return readable[0][1] if readable else None


def awaiting_signers(document: Document) -> list[Signer]:
    signed = {s.signer for s in document.signatures}
    return [signer for signer in SIGNERS if signer not in signed]


def signatures_by_signer(document: Document) -> dict[Signer, AgreementSignature]:
    return {s.signer: s for s in document.signatures}


def current_version(session: Session, kind: DocumentKind, enrolment_id: int) -> Any:
    """The newest version of the enrolment's document, or None if there is none yet."""
    model = kind.model
    return session.scalar(
        select(model).where(model.enrolment_id == enrolment_id).order_by(model.number.desc()).limit(1)
    )


def versions(session: Session, kind: DocumentKind, enrolment_id: int) -> list[Any]:
    """Every version, the newest first (one query)."""
    model = kind.model
    return list(session.scalars(select(model).where(model.enrolment_id == enrolment_id).order_by(model.number.desc())))


def agreed_before(session: Session, kind: DocumentKind, enrolment_id: int, number: int | None = None) -> Any:
    """The newest agreed version (before version `number`, if given), or None."""
    model = kind.model
    statement = select(model).where(model.enrolment_id == enrolment_id, model.agreed_at.is_not(None))
    if number is not None:
        statement = statement.where(model.number < number)
    return session.scalar(statement.order_by(model.number.desc()).limit(1))


def lock_document(session: Session, document: Document) -> None:
    """Lock the enrolment, then the version, and read its signatures afresh: of two signatures at
    once the second sees the first, and no change slips in between a signature and the next."""
    lock_enrolment_for_change(session, document.enrolment, document)
    session.expire(document, ["signatures"])


def check_open(enrolment: Enrolment, kind: DocumentKind) -> None:
    if enrolment.status not in OPEN_FOR_AGREEMENTS:
        raise DomainError(f"The {kind.name} is agreed while the apprentice is on programme")


def version_for_change(
    session: Session, kind: DocumentKind, enrolment: Enrolment, *, by: User, new: Callable[[], Any]
) -> Any:
    """The version a change goes into, the enrolment locked: the current one if nobody has signed
    it; else a new version copied from it (`new()` makes the first). Call under the enrolment's lock."""
    current = current_version(session, kind, enrolment.id)
    if current is None:
        document = new()
        document.number = 1
        audit.record_added(session, f"{kind.action}.started", document, actor=by, after={"version": 1})
        return document
    lock_document(session, current)
    if not current.signatures:
        return current
    document = kind.copy(current, by)
    document.number = current.number + 1
    audit.record_added(
        session,
        f"{kind.action}.new_version",
        document,
        actor=by,
        after={"version": document.number, "replaces": current.number},
    )
    return document


def sign(
    session: Session,
    kind: DocumentKind,
    document: Document,
    *,
    by: User,
    seen: str,
    now: datetime | None = None,
) -> AgreementSignature:
    """`by` signs `document` for their party; `seen` is the fingerprint of the content the page
    showed them. The third signature agrees it, and what agreeing does (`kind.on_agreed`) happens
    in the same transaction, or nothing does."""
    enrolment = document.enrolment
    lock_document(session, document)
    signer = signing_party(by, enrolment)
    if signer is None:
        raise DomainError(f"You cannot sign this {kind.name}")
    check_open(enrolment, kind)
    current = current_version(session, kind, enrolment.id)
    if current is not document:
        raise DomainError(f"This is not the current version of the {kind.name}: sign version {current.number}")
    if any(s.signer is signer for s in document.signatures):
        raise DomainError(f"This version of the {kind.name} has already been signed for {SIGNER_LABELS[signer]}")
    if reason := kind.not_ready(document):
        raise DomainError(reason)
    values = kind.snapshot(document)
    content = fingerprint(values)
    if content != seen:
        raise DomainError(f"The {kind.name} changed since you opened it: read it again before you sign")
    if any(s.fingerprint != content for s in document.signatures):
        raise DomainError(
            f"What the {kind.name} shows has changed since it was first signed: change it to make a new version "
            "for everyone to sign"
        )
    now = now or utcnow()
    signature = AgreementSignature(
        enrolment_id=enrolment.id,
        signer=signer,
        user=by,
        fingerprint=content,
        content=canonical_json(values),
        signed_at=now,
    )
    document.signatures.append(signature)
    agreed = not awaiting_signers(document)
    if agreed:
        kind.on_agreed(session, document, by)
        document.agreed_at = now
    audit.record_change(
        f"{kind.action}.signed",
        document,
        actor=by,
        after={"version": document.number, "signer": signer, "fingerprint": content, "agreed": agreed},
    )
    ask_for_signatures(session, kind, document, by=by)
    return signature


def ask_for_signatures(session: Session, kind: DocumentKind, document: Document, *, by: User | None) -> None:
    """Tell the parties whose signature a version ready to sign awaits, each person once per version."""
    awaited = awaiting_signers(document)
    if not awaited or kind.not_ready(document):
        return
    enrolment = document.enrolment
    notify(
        session,
        people_of(session, enrolment, *(SIGNING_ROLES[signer] for signer in awaited)),
        Kind.SIGNATURE_AWAITED,
        title=f"Sign the {kind.name} (version {document.number}) for {enrolment.apprentice.name}",
        link=kind.link(document),
        enrolment=enrolment,
        actor=by,
        occasion=f"{kind.action}-sign:{document.id}",
    )
