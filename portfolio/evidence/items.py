"""The apprentice's evidence: creating, editing, submitting, withdrawing and deleting items.

Views pass plain values; every rule is checked here and broken ones raise DomainError, so
the view can show the message and the caller's transaction is rolled back untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO, Required, TypedDict, Unpack

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from filestore import DEFAULT_MAX_PIXELS, EvidenceStore, StoredFile, UploadRejected, display_name
from standard import Status

from ..core import audit, clock
from ..core.access import SUBMITTED_TO_EPAO
from ..core.domain import DomainError, Gone, attributes, lock_enrolment_for, lock_enrolment_for_change
from ..core.permissions import may_change_evidence
from ..core.text import clean_line, clean_text
from ..enrolments.domain import check_day_on_programme
from ..models import CriterionJudgement, Enrolment, EnrolmentStatus, Role, SigningStatus, StagedUpload, User
from ..models.evidence import (
    CriterionLink,
    EvidenceFile,
    EvidenceItem,
    EvidenceKind,
    EvidenceStatus,
    EvidenceStatusChange,
    LinkDecision,
)
from ..models.types import utcnow
from ..notifications.domain import notify, people_of
from ..notifications.kinds import Kind
from .readings import ask_for_reading

MAX_TITLE = 200
MAX_TEXT = 10_000
MAX_JUSTIFICATION = 2_000
MAX_CONSENT_REFERENCE = 200
MAX_FILES_PER_ITEM = 20

# The portfolio can change while the apprenticeship runs; at gateway it is frozen for the assessor.
OPEN_FOR_EVIDENCE = (EnrolmentStatus.ON_PROGRAMME,)  # not during a break in learning
EDITABLE = (EvidenceStatus.DRAFT, EvidenceStatus.REFERRED)
SUBMITTABLE = (EvidenceStatus.DRAFT, EvidenceStatus.REFERRED)
WITHDRAWABLE = (EvidenceStatus.SUBMITTED, EvidenceStatus.REFERRED, EvidenceStatus.ACCEPTED)
# Statuses whose links count towards coverage, and the coverage status each gives.
COVERAGE_FROM = {
    EvidenceStatus.SUBMITTED: Status.EVIDENCED,
    EvidenceStatus.REFERRED: Status.EVIDENCED,
    EvidenceStatus.ACCEPTED: Status.ACCEPTED,
}


def link_coverage(status: EvidenceStatus, decision: LinkDecision | None) -> Status:
    """How far one claim takes its criterion: accepted when the reviewer accepted that criterion
    (even if they referred the item back for another), else as far as its item's status."""
    return Status.ACCEPTED if decision is LinkDecision.ACCEPTED else COVERAGE_FROM[status]


# The audit trail's name for each move of an item's status.
STATUS_ACTIONS = {
    EvidenceStatus.SUBMITTED: "evidence.submitted",
    EvidenceStatus.ACCEPTED: "evidence.accepted",
    EvidenceStatus.REFERRED: "evidence.referred",
    EvidenceStatus.WITHDRAWN: "evidence.withdrawn",
}


@dataclass(frozen=True)
class EvidenceDetails:
    """What the apprentice writes about an item."""

    title: str
    kind: EvidenceKind
    activity_date: date
    description: str = ""
    reflection: str = ""
    contains_third_party_data: bool = False
    consent_reference: str = ""
    links: Mapping[str, str] = field(default_factory=dict)  # criterion code -> justification


@dataclass(frozen=True)
class Upload:
    stream: BinaryIO
    filename: str


def check_not_with_epao(enrolment: Enrolment) -> None:
    """Refuse what would change a portfolio submitted at gateway: the EPAO assesses it as submitted."""
    if enrolment.status in SUBMITTED_TO_EPAO:
        raise DomainError(
            "The portfolio has been submitted to the assessment organisation, so it cannot change "
            f"(status: {enrolment.status.label})"
        )


def may_add_evidence(user: User, enrolment: Enrolment) -> bool:
    return user.id == enrolment.apprentice_id and enrolment.status in OPEN_FOR_EVIDENCE


def is_witness_testimony(item: EvidenceItem) -> bool:
    """A testimony written and signed by a witness, not one the apprentice uploaded."""
    return item.kind is EvidenceKind.WITNESS_TESTIMONY and item.created_by_id != item.enrolment.apprentice_id


def is_author(user: User, item: EvidenceItem) -> bool:
    """Whether `user` wrote the item: its creator, unless a witness without an account signed it as
    their own testimony (the creator only asked them, by email)."""
    if item.created_by_id != user.id:
        return False
    return not any(request.status is SigningStatus.SIGNED for request in item.signing_requests)


def may_change(user: User, item: EvidenceItem) -> bool:
    """Only the author changes an item; a witness only until they sign it, and then nobody. A
    testimony asked of a witness by email is theirs to sign through the link, so its requester
    cannot change or sign it here (see portfolio.signing)."""
    if item.created_by_id != user.id:
        return False
    if is_witness_testimony(item):
        enrolment = item.enrolment
        return (
            user.role is Role.EMPLOYER
            and user.organisation_id == enrolment.employer_id
            and enrolment.status in OPEN_FOR_EVIDENCE
            and item.status is EvidenceStatus.DRAFT
            and not item.signing_requests
        )
    return may_add_evidence(user, item.enrolment)


class FileOptions(TypedDict, total=False):
    """What writing an item takes besides its details: the files (`attach_files`) and the day."""

    uploads: Iterable[Upload]
    staged: Iterable[StagedUpload]
    max_bytes: Required[int]
    max_pixels: int
    today: date | None


def create_item(
    session: Session,
    store: EvidenceStore,
    *,
    enrolment: Enrolment,
    author: User,
    details: EvidenceDetails,
    **files: Unpack[FileOptions],
) -> EvidenceItem:
    lock_enrolment_for(
        session, enrolment, author, may_add_evidence, "You cannot add evidence to this apprenticeship now"
    )
    item = EvidenceItem(enrolment=enrolment, created_by=author, status=EvidenceStatus.DRAFT)
    _write(session, store, item, details, by=author, new=True, **files)
    audit.record_change("evidence.created", item, actor=author, after=audited_values(item))
    return item


def update_item(
    session: Session,
    store: EvidenceStore,
    item: EvidenceItem,
    *,
    by: User,
    details: EvidenceDetails,
    **files: Unpack[FileOptions],
) -> None:
    lock_item_for_change(session, item)
    _check_editable(item, by)
    with audit.recording("evidence.updated", item, actor=by, values=audited_values):
        _write(session, store, item, details, by=by, new=False, **files)


def _write(
    session: Session,
    store: EvidenceStore,
    item: EvidenceItem,
    details: EvidenceDetails,
    *,
    by: User,
    new: bool,
    uploads: Iterable[Upload] = (),
    staged: Iterable[StagedUpload] = (),
    max_bytes: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    today: date | None = None,
) -> None:
    """Check and copy the details onto the item, then attach its files; a `new` item joins the
    session, as a draft, once its details pass."""
    apply_details(item, details, today or clock.today())
    if new:
        session.add(item)
        session.add(EvidenceStatusChange(item=item, from_status=None, to_status=EvidenceStatus.DRAFT, changed_by=by))
    attach_files(session, store, item, uploads, by=by, max_bytes=max_bytes, max_pixels=max_pixels, staged=staged)


def attach_files(
    session: Session,
    store: EvidenceStore,
    item: EvidenceItem,
    uploads: Iterable[Upload],
    *,
    by: User,
    max_bytes: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    staged: Iterable[StagedUpload] = (),
) -> list[EvidenceFile]:
    """Attach files kept from an earlier try (`staged`, which are used up) and store and attach each
    upload. A refused file raises DomainError; what this call stored stays in the store for the sweep
    (the same bytes may belong to another item), and the caller's rollback forgets the rows."""
    added: list[EvidenceFile] = []
    try:
        for kept in staged:
            added.append(_attach(item, kept, kept.display_name, by))
            session.delete(kept)
        for upload in uploads:
            stored = store_upload(store, upload, max_bytes, max_pixels)
            added.append(_attach(item, stored, display_name(upload.filename), by))
    except Exception:
        for record in added:
            item.files.remove(record)
        raise
    return added


def store_upload(
    store: EvidenceStore, upload: Upload, max_bytes: int, max_pixels: int = DEFAULT_MAX_PIXELS
) -> StoredFile:
    """Keep the upload's bytes in the store; a refused file is a DomainError naming it."""
    try:
        return store.put(upload.stream, upload.filename or "", max_bytes, max_pixels)
    except UploadRejected as rejected:
        raise DomainError(f"{_shown_name(upload.filename)}: {rejected.message}", "files") from None


def _attach(item: EvidenceItem, stored: StoredFile | StagedUpload, name: str, by: User) -> EvidenceFile:
    if len(item.files) >= MAX_FILES_PER_ITEM:
        raise DomainError(f"An item can have at most {MAX_FILES_PER_ITEM} files", "files")
    record = EvidenceFile(
        **attributes(stored, "sha256", "size", "crc32", "media_type", "pixels"), display_name=name, uploaded_by=by
    )
    item.files.append(record)
    ask_for_reading(record.sha256, record.media_type)
    return record


def remove_file(session: Session, item: EvidenceItem, file: EvidenceFile, *, by: User) -> None:
    """Take a file off the item; its bytes stay in the store until the sweep finds them unused."""
    lock_item_for_change(session, item)
    _check_editable(item, by)
    # Read afresh under the lock: the same file removed twice at once is removed once.
    file = next((f for f in item.files if f.id == file.id), None)
    if file is None:
        raise Gone("This file has already been removed")
    with audit.recording("evidence.file_removed", item, actor=by, values=audited_values):
        item.files.remove(file)


def submit(item: EvidenceItem, *, by: User) -> None:
    """Send the item and all its links for review at once."""
    lock_item_for_change(_session_of(item), item)
    if not may_change(by, item):
        raise DomainError("You cannot submit this evidence")
    if is_witness_testimony(item):
        raise DomainError("A witness testimony is submitted for review when its witness signs it")
    if item.status not in SUBMITTABLE:
        raise DomainError(f"Evidence that is {item.status.label.lower()} cannot be submitted")
    if not item.links:
        raise DomainError("Link the evidence to at least one criterion before you submit it", "links")
    if missing := [link.criterion_code for link in item.links if not link.justification.strip()]:
        raise DomainError(f"Explain how the evidence shows {', '.join(missing)} before you submit it", "links")
    resubmitted = item.status is EvidenceStatus.REFERRED
    change_evidence_status(item, EvidenceStatus.SUBMITTED, by)
    item.submitted_at = utcnow()
    session, enrolment = _session_of(item), item.enrolment
    notify(
        session,
        people_of(session, enrolment, Role.TUTOR),
        Kind.EVIDENCE_SUBMITTED,
        title=f"Evidence {'resubmitted' if resubmitted else 'submitted'} by {enrolment.apprentice.name}: {item.title}",
        link=item_path(item),
        enrolment=enrolment,
        actor=by,
    )


def item_path(item: EvidenceItem) -> str:
    """The item's page, where it is reviewed and discussed: for a notification's link."""
    return f"/enrolments/{item.enrolment_id}/evidence/{item.id}"


def withdraw(item: EvidenceItem, *, by: User, reason: str) -> None:
    """Take submitted evidence out of the portfolio; it and its history are kept."""
    lock_item_for_change(_session_of(item), item)
    if not may_change(by, item):
        raise DomainError("You cannot withdraw this evidence")
    if item.status not in WITHDRAWABLE:
        raise DomainError(f"Evidence that is {item.status.label.lower()} cannot be withdrawn")
    reason = clean_line(reason)
    if not reason:
        raise DomainError("Say why you are withdrawing the evidence", "reason")
    if len(reason) > MAX_JUSTIFICATION:
        raise DomainError(f"The reason must be {MAX_JUSTIFICATION:,} characters or fewer", "reason")
    change_evidence_status(item, EvidenceStatus.WITHDRAWN, by, reason)


def delete_draft(session: Session, item: EvidenceItem, *, by: User) -> None:
    """Delete a draft with its rows. Its files stay in the store: another item may share their bytes,
    or an upload of the same bytes may be on its way, so only the sweep removes stored files."""
    lock_item_for_change(session, item)
    if not may_change(by, item) or item.status is not EvidenceStatus.DRAFT:
        raise DomainError("Only drafts can be deleted; withdraw submitted evidence instead")
    audit.record_change("evidence.deleted", item, actor=by, before=audited_values(item))
    session.delete(item)
    session.flush()


def criterion_statuses(session: Session, enrolment: Enrolment) -> dict[str, Status]:
    """How far each criterion has got: from the evidence linked to it, or MET when its current
    judgement is a met level (two queries)."""
    return criterion_statuses_of(session, [enrolment])[enrolment.id]


def criterion_statuses_of(session: Session, enrolments: Sequence[Enrolment]) -> dict[int, dict[str, Status]]:
    """`criterion_statuses` of many enrolments, by enrolment id, in the same two queries."""
    standards = {enrolment.id: enrolment.standard_version.standard for enrolment in enrolments}
    statuses: dict[int, dict[str, Status]] = {enrolment_id: {} for enrolment_id in standards}
    if not standards:
        return statuses
    ids = sorted(standards)
    rows = session.execute(
        select(EvidenceItem.enrolment_id, CriterionLink.criterion_code, EvidenceItem.status, CriterionLink.decision)
        .distinct()
        .select_from(CriterionLink)
        .join(CriterionLink.item)
        .where(EvidenceItem.enrolment_id.in_(ids), EvidenceItem.status.in_(COVERAGE_FROM))
    )
    for enrolment_id, code, status, decision in rows:
        if code in standards[enrolment_id]:
            found = statuses[enrolment_id]
            found[code] = max(found.get(code, Status.NONE), link_coverage(status, decision))
    # Judgements are append-only: the newest per criterion (the highest id) is the current one.
    current = (
        select(func.max(CriterionJudgement.id))
        .where(CriterionJudgement.enrolment_id.in_(ids))
        .group_by(CriterionJudgement.enrolment_id, CriterionJudgement.criterion_code)
    )
    met = session.execute(
        select(CriterionJudgement.enrolment_id, CriterionJudgement.criterion_code).where(
            CriterionJudgement.id.in_(current), CriterionJudgement.met
        )
    )
    for enrolment_id, code in met:
        if code in standards[enrolment_id]:
            statuses[enrolment_id][code] = Status.MET
    return statuses


def lock_item_for_change(session: Session, item: EvidenceItem) -> None:
    """Lock the item's enrolment, then the item, and read both afresh, so that the rules checked
    next see the statuses as they are (see lock_enrolment_for_change); Gone if it was deleted."""
    lock_enrolment_for_change(session, item.enrolment, item)


def _session_of(item: EvidenceItem) -> Session:
    session = object_session(item)
    if session is None:
        raise ValueError(f"{item!r} is not in a session")
    return session


def _check_editable(item: EvidenceItem, by: User) -> None:
    if not may_change(by, item):
        raise DomainError("You cannot change this evidence")
    if item.status not in EDITABLE:
        raise DomainError(f"Evidence that is {item.status.label.lower()} cannot be changed")


def apply_details(item: EvidenceItem, details: EvidenceDetails, today: date) -> None:
    """Check what the author wrote and copy it onto the item; DomainError names the bad field."""
    title = clean_line(details.title)
    if not title:
        raise DomainError("Enter a title", "title")
    if len(title) > MAX_TITLE:
        raise DomainError(f"The title must be {MAX_TITLE} characters or fewer", "title")
    enrolment = item.enrolment
    check_day_on_programme(
        details.activity_date, enrolment, today, called="The date of the activity", field="activity_date"
    )
    description, reflection = clean_text(details.description), clean_text(details.reflection)
    for name, text in (("description", description), ("reflection", reflection)):
        if len(text) > MAX_TEXT:
            raise DomainError(f"The {name} must be {MAX_TEXT:,} characters or fewer", name)
    consent = clean_line(details.consent_reference)
    if len(consent) > MAX_CONSENT_REFERENCE:
        raise DomainError(
            f"The consent reference must be {MAX_CONSENT_REFERENCE} characters or fewer", "consent_reference"
        )
    standard = enrolment.standard_version.standard
    links = {code: clean_text(justification) for code, justification in details.links.items()}
    for code, justification in links.items():
        if code not in standard:
            raise DomainError(f"{code} is not a criterion of {standard.reference}", "links")
        if not justification:
            raise DomainError(f"Explain how this evidence shows {code}", f"justification_{code}")
        if len(justification) > MAX_JUSTIFICATION:
            raise DomainError(
                f"The explanation for {code} must be {MAX_JUSTIFICATION:,} characters or fewer", f"justification_{code}"
            )
    item.title = title
    item.kind = details.kind
    item.activity_date = details.activity_date
    item.description = description
    item.reflection = reflection
    item.contains_third_party_data = details.contains_third_party_data
    item.consent_reference = consent if details.contains_third_party_data else ""
    _set_links(item, links)


def _set_links(item: EvidenceItem, links: Mapping[str, str]) -> None:
    existing = {link.criterion_code: link for link in item.links}
    for code, link in existing.items():
        if code not in links:
            item.links.remove(link)
    standard_order = {c.code: n for n, c in enumerate(item.enrolment.standard_version.standard)}
    for code in sorted(links, key=standard_order.__getitem__):
        if code in existing:
            link = existing[code]
            if link.justification != links[code]:  # a changed claim is decided again
                link.justification, link.decision = links[code], None
        else:
            item.links.append(CriterionLink(criterion_code=code, justification=links[code]))


def change_evidence_status(item: EvidenceItem, to_status: EvidenceStatus, by: User, note: str = "") -> None:
    """Move the item to `to_status` if the permissions table lets `by`'s role, with a history row."""
    if not may_change_evidence(by.role, item.status, to_status):
        raise DomainError(
            f"A {by.role.label.lower()} cannot move evidence from {item.status.label.lower()} "
            f"to {to_status.label.lower()}"
        )
    move_evidence_status(item, to_status, changed_by=by, actor=by, note=note)


def move_evidence_status(
    item: EvidenceItem, to_status: EvidenceStatus, *, changed_by: User, actor: User | None, note: str = ""
) -> None:
    """Move the item with a history row by `changed_by` and an event by `actor`, whom the caller
    has checked. For a move nobody signed in makes (a witness without an account signing through an
    emailed request), `actor` is None and `changed_by` is the person whose request it answers."""
    item.history.append(
        EvidenceStatusChange(from_status=item.status, to_status=to_status, changed_by=changed_by, note=note)
    )
    before = {"status": item.status}
    item.status = to_status
    if to_status is EvidenceStatus.SUBMITTED:
        item.attempt = (item.attempt or 0) + 1  # None until a new item is first flushed
    after = {"status": to_status} | ({"note": note} if note else {})
    audit.record_change(STATUS_ACTIONS[to_status], item, actor=actor, before=before, after=after)


def audited_values(item: EvidenceItem) -> dict:
    """What the audit trail records of an item: what its author wrote, its criteria and its files."""
    return audit.values(
        item,
        "title",
        "kind",
        "activity_date",
        "description",
        "reflection",
        "contains_third_party_data",
        "consent_reference",
    ) | {
        "links": {link.criterion_code: link.justification for link in item.links},
        "files": [f"{file.display_name} (SHA-256 {file.sha256})" for file in item.files],
    }


def _shown_name(filename: str | None) -> str:
    try:
        return display_name(filename or "")
    except UploadRejected:
        return "A file"
