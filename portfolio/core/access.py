"""Who may see and change what. Every view goes through these functions.

Access is by relationship: an apprentice sees their own enrolments, an employer those of
their organisation, a tutor those of their provider, an assessor those submitted to their
EPAO, and an administrator everything (they run the installation). Anything else is a 404,
so that nobody learns that a record exists.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Protocol, TypeVar

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import ColumnElement, Select, false, select, true
from sqlalchemy.orm import Session, contains_eager

from standard import Signer

from ..models import Enrolment, EnrolmentStatus, OtjEntry, ProgressReview, Role, User
from ..models.evidence import EvidenceFile, EvidenceItem, EvidenceStatus
from .permissions import may_judge

# An assessor sees an enrolment only once it has been submitted to their EPAO at gateway.
SUBMITTED_TO_EPAO = (EnrolmentStatus.AT_GATEWAY, EnrolmentStatus.IN_EPA, EnrolmentStatus.COMPLETED)

F = TypeVar("F", bound=Callable)


def visible_enrolments_clause(user: User) -> ColumnElement[bool]:
    """A WHERE clause matching the enrolments `user` may see."""
    if not user.is_active:
        return false()
    match user.role:
        case Role.ADMIN:
            return true()
        case Role.APPRENTICE:
            return Enrolment.apprentice_id == user.id
        case Role.EMPLOYER:
            return Enrolment.employer_id == user.organisation_id
        case Role.TUTOR:
            return Enrolment.provider_id == user.organisation_id
        case Role.ASSESSOR:
            return (Enrolment.epao_id == user.organisation_id) & Enrolment.status.in_(SUBMITTED_TO_EPAO)
    return false()


def enrolments_visible_to(user: User) -> Select[tuple[Enrolment]]:
    return select(Enrolment).where(visible_enrolments_clause(user))


def get_enrolment_or_404(
    session: Session, user: User, enrolment_id: int, *, may: Callable[[User, Enrolment], bool] | None = None
) -> Enrolment:
    """The enrolment if `user` sees it and, given `may`, if `may(user, enrolment)`: to anyone
    else it does not exist."""
    enrolment = session.scalar(enrolments_visible_to(user).where(Enrolment.id == enrolment_id))
    if enrolment is None or (may is not None and not may(user, enrolment)):
        abort(404)
    return enrolment


def visible_evidence_clause(user: User) -> ColumnElement[bool]:
    """Evidence of the enrolments `user` may see; a draft only to the person writing it."""
    return visible_enrolments_clause(user) & (
        (EvidenceItem.status != EvidenceStatus.DRAFT) | (EvidenceItem.created_by_id == user.id)
    )


def evidence_visible_to(user: User) -> Select[tuple[EvidenceItem]]:
    return select(EvidenceItem).join(EvidenceItem.enrolment).where(visible_evidence_clause(user))


def get_evidence_or_404(session: Session, user: User, enrolment_id: int, item_id: int) -> EvidenceItem:
    item = session.scalar(
        evidence_visible_to(user).where(EvidenceItem.id == item_id, EvidenceItem.enrolment_id == enrolment_id)
    )
    if item is None:
        abort(404)
    return item


def get_reviewable_evidence_or_404(session: Session, user: User, enrolment_id: int, item_id: int) -> EvidenceItem:
    """The item, if `user` is a tutor who may review it; else 404."""
    item = get_evidence_or_404(session, user, enrolment_id, item_id)
    if not is_tutor_of(user, item.enrolment):
        abort(404)
    return item


def get_evidence_file_or_404(
    session: Session, user: User, enrolment_id: int, item_id: int, file_id: int
) -> EvidenceFile:
    """A file of an item `user` sees, if they may see its files (see `may_see_files`); else 404."""
    evidence_file = session.scalar(
        select(EvidenceFile)
        .join(EvidenceFile.item)
        .join(EvidenceItem.enrolment)
        .where(
            visible_evidence_clause(user),
            EvidenceFile.id == file_id,
            EvidenceItem.id == item_id,
            EvidenceItem.enrolment_id == enrolment_id,
        )
        .options(contains_eager(EvidenceFile.item).contains_eager(EvidenceItem.enrolment))
    )
    if evidence_file is None or not may_see_files(user, evidence_file.item):
        abort(404)
    return evidence_file


class HoldsPersonalData(Protocol):
    """An evidence item as a model or as an export's plain values."""

    contains_third_party_data: bool
    consent_reference: str


def files_withheld(item: HoldsPersonalData) -> bool:
    """Data about other people with no consent on record: the item's files leave no one's hands but
    those who answer for them (see `may_see_files`), and no export carries them."""
    return item.contains_third_party_data and not item.consent_reference


def may_see_files(user: User, item: EvidenceItem) -> bool:
    """Whether `user`, who sees the item, may open its files (download or preview).

    Files withheld for other people's data without consent stay with the apprentice who
    collected them and the provider's tutors and administrators, who answer for the data;
    employers and assessors see that the files exist, not what is in them.
    """
    enrolment = item.enrolment
    return (
        not files_withheld(item)
        or is_apprentice_of(user, enrolment)
        or is_tutor_of(user, enrolment)
        or may_administer(user)
    )


def may_administer(user: User) -> bool:
    return user.is_active and user.role is Role.ADMIN


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Views for some roles only; for anyone else the page does not exist (404)."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


admin_required = roles_required(Role.ADMIN)


def may_judge_criteria(user: User, enrolment: Enrolment) -> bool:
    """Who may judge the enrolment's criteria: a judging role of its provider, never the apprentice."""
    return (
        user.is_active
        and may_judge(user.role)
        and user.organisation_id == enrolment.provider_id
        and user.id != enrolment.apprentice_id
    )


def may_comment_on_evidence(user: User, enrolment: Enrolment) -> bool:
    """The apprentice, their employer's people and their provider's tutors talk about the evidence;
    assessors and administrators only read."""
    if not user.is_active:
        return False
    match user.role:
        case Role.APPRENTICE:
            return user.id == enrolment.apprentice_id
        case Role.EMPLOYER:
            return user.organisation_id == enrolment.employer_id
        case Role.TUTOR:
            return user.organisation_id == enrolment.provider_id
    return False


def may_export(user: User, enrolment: Enrolment) -> bool:
    """Who may download the portfolio (PDF and ZIP): the apprentice (their own copy of their own
    data), tutors of the provider, the EPAO's assessors once it is submitted to them, and
    administrators. Employers read the portfolio in the service but take no copy of it away.
    A withdrawn enrolment is refused separately, with a message (see `portfolio.exports`)."""
    if not user.is_active:
        return False
    match user.role:
        case Role.ADMIN:
            return True
        case Role.APPRENTICE:
            return user.id == enrolment.apprentice_id
        case Role.TUTOR:
            return user.organisation_id == enrolment.provider_id
        case Role.ASSESSOR:
            return user.organisation_id == enrolment.epao_id and enrolment.status in SUBMITTED_TO_EPAO
    return False


def may_read_audit_trail(user: User, enrolment: Enrolment) -> bool:
    """Who reads an enrolment's audit trail: administrators, and tutors of its provider."""
    return may_administer(user) or is_tutor_of(user, enrolment)


# The three parties to an apprenticeship: the apprentice, their employer (who witnesses their work)
# and the training provider's tutors (who review their evidence). Each signs for its own party.


def is_apprentice_of(user: User, enrolment: Enrolment) -> bool:
    return user.is_active and user.role is Role.APPRENTICE and user.id == enrolment.apprentice_id


def is_employer_of(user: User, enrolment: Enrolment) -> bool:
    """Someone of the apprentice's employer (line manager, mentor)."""
    return user.is_active and user.role is Role.EMPLOYER and user.organisation_id == enrolment.employer_id


def is_tutor_of(user: User, enrolment: Enrolment) -> bool:
    """A tutor of the enrolment's training provider."""
    return user.is_active and user.role is Role.TUTOR and user.organisation_id == enrolment.provider_id


SIGNER_LABELS = {
    Signer.APPRENTICE: "the apprentice",
    Signer.EMPLOYER: "the employer",
    Signer.PROVIDER: "the training provider",
}
# Which role signs for which party, for queries over many enrolments that check the relationship
# to each enrolment in SQL themselves.
SIGNER_ROLES = {Role.APPRENTICE: Signer.APPRENTICE, Role.EMPLOYER: Signer.EMPLOYER, Role.TUTOR: Signer.PROVIDER}
# And the role that signs for each party, for telling a party its signature is awaited.
SIGNING_ROLES = {signer: role for role, signer in SIGNER_ROLES.items()}


def signing_party(user: User, enrolment: Enrolment) -> Signer | None:
    """The party `user` signs for on the enrolment's gateway declarations and progress reviews, if any."""
    if is_apprentice_of(user, enrolment):
        return Signer.APPRENTICE
    if is_employer_of(user, enrolment):
        return Signer.EMPLOYER
    if is_tutor_of(user, enrolment):
        return Signer.PROVIDER
    return None


def get_otj_entry_or_404(session: Session, user: User, enrolment_id: int, entry_id: int) -> OtjEntry:
    entry = session.scalar(
        select(OtjEntry)
        .join(OtjEntry.enrolment)
        .where(visible_enrolments_clause(user), OtjEntry.id == entry_id, OtjEntry.enrolment_id == enrolment_id)
    )
    if entry is None:
        abort(404)
    return entry


def get_progress_review_or_404(session: Session, user: User, enrolment_id: int, review_id: int) -> ProgressReview:
    review = session.scalar(
        select(ProgressReview)
        .join(ProgressReview.enrolment)
        .where(
            visible_enrolments_clause(user), ProgressReview.id == review_id, ProgressReview.enrolment_id == enrolment_id
        )
    )
    if review is None:
        abort(404)
    return review
