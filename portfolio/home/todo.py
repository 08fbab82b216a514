"""What needs a user's action, for the "To do" list on their home page.

The counts come from the modules that own each piece of work (evidence review, off-the-job
training, progress reviews, the gateway); this module adds the apprentice's drafts and, for tutors and
employers, which apprentices the work is for. A fixed number of queries per role.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ..core.access import SIGNER_ROLES, visible_enrolments_clause
from ..evidence.items import OPEN_FOR_EVIDENCE
from ..gateway.domain import decision_awaited_clause, declaration_awaited_clause
from ..models import (
    Enrolment,
    EnrolmentStatus,
    EvidenceItem,
    EvidenceStatus,
    GatewaySubmission,
    OtjEntry,
    OtjStatus,
    ProgressReview,
    ReviewSignature,
    Role,
    User,
)
from ..otj.domain import entries_to_approve_count
from ..progress_reviews.domain import reviews_to_sign_count
from ..review.domain import awaiting_review_count, referred_count

BREAKDOWN_LIMIT = 5  # apprentices named under a count; the rest are "and N more"


@dataclass(frozen=True)
class Pending:
    """Work waiting on one enrolment."""

    enrolment_id: int
    apprentice_name: str
    count: int


@dataclass(frozen=True)
class TodoList:
    evidence_to_review: int = 0
    otj_to_approve: int = 0
    otj_by_enrolment: tuple[Pending, ...] = ()
    reviews_to_sign: int = 0
    reviews_by_enrolment: tuple[Pending, ...] = ()
    referred_to_fix: int = 0
    drafts: int = 0
    declarations_to_sign: int = 0
    declarations_by_enrolment: tuple[Pending, ...] = ()
    gateways_to_decide: int = 0
    gateways_by_enrolment: tuple[Pending, ...] = ()

    @property
    def empty(self) -> bool:
        return not (
            self.evidence_to_review
            or self.otj_to_approve
            or self.reviews_to_sign
            or self.referred_to_fix
            or self.drafts
            or self.declarations_to_sign
            or self.gateways_to_decide
        )


def todo_list(session: Session, user: User) -> TodoList:
    """What waits for `user`: tutors review, approve and sign; employers sign; apprentices fix,
    sign and submit; assessors decide gateways."""
    if not user.is_active:
        return TodoList()
    match user.role:
        case Role.TUTOR:
            return TodoList(
                evidence_to_review=awaiting_review_count(session, user),
                otj_to_approve=entries_to_approve_count(session, user),
                otj_by_enrolment=_otj_by_enrolment(session, user),
                reviews_to_sign=reviews_to_sign_count(session, user),
                reviews_by_enrolment=_reviews_by_enrolment(session, user),
                **_declarations(session, user),
            )
        case Role.EMPLOYER:
            return TodoList(
                reviews_to_sign=reviews_to_sign_count(session, user),
                reviews_by_enrolment=_reviews_by_enrolment(session, user),
                **_declarations(session, user),
            )
        case Role.APPRENTICE:
            return TodoList(
                referred_to_fix=referred_count(session, user),
                reviews_to_sign=reviews_to_sign_count(session, user),
                drafts=drafts_count(session, user),
                **_declarations(session, user),
            )
        case Role.ASSESSOR:
            return TodoList(**_gateways(session, user))
    return TodoList()


def drafts_count(session: Session, apprentice: User) -> int:
    """The apprentice's own drafts on apprenticeships still open for evidence (one query)."""
    return (
        session.scalar(
            select(func.count(EvidenceItem.id))
            .join(EvidenceItem.enrolment)
            .where(
                Enrolment.apprentice_id == apprentice.id,
                Enrolment.status.in_(OPEN_FOR_EVIDENCE),
                EvidenceItem.created_by_id == apprentice.id,
                EvidenceItem.status == EvidenceStatus.DRAFT,
            )
        )
        or 0
    )


# Which apprentices the work is for, the most first. The conditions are those of
# `otj.entries_to_approve_count` and `progress_reviews.reviews_to_sign_count`, grouped by enrolment.


def _otj_by_enrolment(session: Session, tutor: User) -> tuple[Pending, ...]:
    statement = (
        select(Enrolment.id, User.name, func.count(OtjEntry.id))
        .join(OtjEntry, OtjEntry.enrolment_id == Enrolment.id)
        .where(OtjEntry.status == OtjStatus.LOGGED)
    )
    return _breakdown(session, tutor, statement, func.count(OtjEntry.id))


def _reviews_by_enrolment(session: Session, user: User) -> tuple[Pending, ...]:
    signer = SIGNER_ROLES[user.role]
    signed = select(ReviewSignature.id).where(
        ReviewSignature.review_id == ProgressReview.id, ReviewSignature.signer == signer
    )
    statement = (
        select(Enrolment.id, User.name, func.count(ProgressReview.id))
        .join(ProgressReview, ProgressReview.enrolment_id == Enrolment.id)
        .where(~signed.exists())
    )
    return _breakdown(session, user, statement, func.count(ProgressReview.id))


def _declarations(session: Session, user: User) -> dict:
    """Gateway declarations awaiting the party `user` signs for, one per enrolment (one query)."""
    statement = select(Enrolment.id, User.name).where(declaration_awaited_clause(user))
    total, pending = _enrolments_and_total(session, user, statement)
    return {"declarations_to_sign": total, "declarations_by_enrolment": pending}


def _gateways(session: Session, assessor: User) -> dict:
    """Submissions to the assessor's EPAO waiting for their decision, one per enrolment (one query)."""
    statement = (
        select(Enrolment.id, User.name)
        .join(GatewaySubmission, GatewaySubmission.enrolment_id == Enrolment.id)
        .where(decision_awaited_clause(assessor))
    )
    total, pending = _enrolments_and_total(session, assessor, statement)
    return {"gateways_to_decide": total, "gateways_by_enrolment": pending}


def _enrolments_and_total(session: Session, user: User, statement: Select) -> tuple[int, tuple[Pending, ...]]:
    """For work that is one piece per enrolment: the first few enrolments by name, and how many in
    all (a window count over the rows before the limit), in one query."""
    rows = session.execute(
        statement.add_columns(func.count().over())
        .join(User, User.id == Enrolment.apprentice_id)
        .where(visible_enrolments_clause(user), Enrolment.status != EnrolmentStatus.WITHDRAWN)
        .order_by(User.name, Enrolment.id)
        .limit(BREAKDOWN_LIMIT)
    ).all()
    total = rows[0][2] if rows else 0
    return total, tuple(Pending(enrolment_id, name, 1) for enrolment_id, name, _ in rows)


def _breakdown(session: Session, user: User, statement: Select, count) -> tuple[Pending, ...]:
    rows = session.execute(
        statement.join(User, User.id == Enrolment.apprentice_id)
        .where(visible_enrolments_clause(user), Enrolment.status != EnrolmentStatus.WITHDRAWN)
        .group_by(Enrolment.id, User.name)
        .order_by(count.desc(), User.name, Enrolment.id)
        .limit(BREAKDOWN_LIMIT)
    )
    return tuple(Pending(enrolment_id, name, n) for enrolment_id, name, n in rows)
