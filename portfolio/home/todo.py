"""What needs a user's action, for the "To do" list on their home page.

The counts come from the modules that own each piece of work (evidence review, off-the-job
training, progress reviews, the gateway, notifications), by the rules the reminders use; this
module adds the apprentice's drafts, referrals by the assessment organisation and, for tutors and
employers, which apprentices the work is for. A fixed number of queries per role, whatever the
number of apprenticeships: the gateway's to-do items come from `gateway_standings`, which works out
readiness and declarations for all of a person's apprenticeships at once, over every one they see
(not only those they are assigned to, as for the rest of the list).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, aliased, joinedload

from ..assessment.domain import awaiting_result_clause
from ..core import clock
from ..core.access import SIGNER_ROLES, visible_enrolments_clause
from ..evidence.items import OPEN_FOR_EVIDENCE
from ..gateway.domain import GatewayStanding, decision_awaited_clause, gateway_standings
from ..models import (
    Enrolment,
    EnrolmentStatus,
    EvidenceItem,
    EvidenceStatus,
    GatewayOutcome,
    GatewaySubmission,
    OtjEntry,
    OtjStatus,
    ProgressReview,
    ReviewSignature,
    Role,
    User,
)
from ..notifications.domain import unread_count
from ..notifications.kinds import Kind
from ..otj.domain import entries_to_approve_count, queried_entries_count
from ..progress_reviews.domain import review_due_by_clause, reviews_to_sign_count
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
    otj_queried: int = 0
    reviews_overdue: int = 0
    overdue_by_enrolment: tuple[Pending, ...] = ()
    declarations_to_sign: int = 0
    declarations_by_enrolment: tuple[Pending, ...] = ()
    declarations_out_of_date: int = 0
    out_of_date_by_enrolment: tuple[Pending, ...] = ()
    ready_to_submit: int = 0
    submit_by_enrolment: tuple[Pending, ...] = ()
    behaviours_to_verify: int = 0
    verify_by_enrolment: tuple[Pending, ...] = ()
    referred_by_assessor: int = 0
    referrals_by_enrolment: tuple[Pending, ...] = ()
    new_comments: int = 0
    gateways_to_decide: int = 0
    gateways_by_enrolment: tuple[Pending, ...] = ()
    results_to_record: int = 0
    results_by_enrolment: tuple[Pending, ...] = ()

    @property
    def empty(self) -> bool:
        return not (
            self.evidence_to_review
            or self.otj_to_approve
            or self.reviews_to_sign
            or self.referred_to_fix
            or self.drafts
            or self.otj_queried
            or self.reviews_overdue
            or self.declarations_to_sign
            or self.declarations_out_of_date
            or self.ready_to_submit
            or self.behaviours_to_verify
            or self.referred_by_assessor
            or self.new_comments
            or self.gateways_to_decide
            or self.results_to_record
        )


def todo_list(session: Session, user: User, today: date | None = None) -> TodoList:
    """What waits for `user`: tutors review, approve, sign and submit; employers sign; apprentices
    fix, sign and submit; each party holds overdue reviews and gateways referred back, and reads
    new comments; assessors decide gateways and record assessment results."""
    if not user.is_active:
        return TodoList()
    today = today or clock.today()
    match user.role:
        case Role.TUTOR:
            return TodoList(
                evidence_to_review=awaiting_review_count(session, user),
                otj_to_approve=entries_to_approve_count(session, user),
                otj_by_enrolment=_otj_by_enrolment(session, user),
                reviews_to_sign=reviews_to_sign_count(session, user),
                reviews_by_enrolment=_reviews_by_enrolment(session, user),
                **_parties_work(session, user, today),
            )
        case Role.EMPLOYER:
            return TodoList(
                reviews_to_sign=reviews_to_sign_count(session, user),
                reviews_by_enrolment=_reviews_by_enrolment(session, user),
                **_parties_work(session, user, today),
            )
        case Role.APPRENTICE:
            return TodoList(
                referred_to_fix=referred_count(session, user),
                reviews_to_sign=reviews_to_sign_count(session, user),
                drafts=drafts_count(session, user),
                otj_queried=queried_entries_count(session, user),
                **_parties_work(session, user, today),
            )
        case Role.ASSESSOR:
            return TodoList(**_gateways(session, user), **_results(session, user))
    return TodoList()


def _parties_work(session: Session, user: User, today: date) -> dict:
    """What each of the three parties has to do alike: overdue reviews, the gateway's declarations
    (and, for tutors, submissions), referrals to act on and comments to read."""
    overdue, overdue_by_enrolment = _enrolments_and_total(
        session, user, select(Enrolment.id, User.name).where(review_due_by_clause(today - timedelta(days=1)))
    )
    referred, referrals_by_enrolment = _enrolments_and_total(
        session, user, select(Enrolment.id, User.name).where(_referred_by_assessor_clause())
    )
    return {
        "reviews_overdue": overdue,
        "overdue_by_enrolment": overdue_by_enrolment,
        "referred_by_assessor": referred,
        "referrals_by_enrolment": referrals_by_enrolment,
        "new_comments": unread_count(session, user, Kind.COMMENT),
        **_gateway(session, user, today),
    }


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


def _gateway(session: Session, user: User, today: date) -> dict:
    """Declarations for `user`'s party to sign, or sign again now that the portfolio has changed,
    for a tutor, apprenticeships ready to submit, and for an employer, behaviours to verify where
    the standard asks for it and the criteria are complete (the queries of `gateway_standings`)."""
    signer = SIGNER_ROLES[user.role]
    standings = gateway_standings(
        session, visible_enrolments_clause(user), today, options=(joinedload(Enrolment.apprentice),)
    )
    to_sign = [standing for standing in standings if standing.to_sign(signer)]
    out_of_date = [standing for standing in standings if standing.out_of_date(signer)]
    ready = [standing for standing in standings if standing.ready_to_submit] if user.role is Role.TUTOR else []
    verify = [s for s in standings if s.behaviours_to_verify] if user.role is Role.EMPLOYER else []
    return {
        "declarations_to_sign": len(to_sign),
        "declarations_by_enrolment": _first_by_name(to_sign),
        "declarations_out_of_date": len(out_of_date),
        "out_of_date_by_enrolment": _first_by_name(out_of_date),
        "ready_to_submit": len(ready),
        "submit_by_enrolment": _first_by_name(ready),
        "behaviours_to_verify": len(verify),
        "verify_by_enrolment": _first_by_name(verify),
    }


def _first_by_name(standings: Sequence[GatewayStanding]) -> tuple[Pending, ...]:
    named = sorted((s.enrolment.apprentice.name, s.enrolment.id) for s in standings)
    return tuple(Pending(enrolment_id, name, 1) for name, enrolment_id in named[:BREAKDOWN_LIMIT])


def _referred_by_assessor_clause() -> ColumnElement[bool]:
    """Enrolments whose latest gateway submission the assessment organisation referred back."""
    newer = aliased(GatewaySubmission)
    return (
        select(GatewaySubmission.id)
        .where(
            GatewaySubmission.enrolment_id == Enrolment.id,
            GatewaySubmission.outcome == GatewayOutcome.REFERRED,
            ~select(newer.id)
            .where(newer.enrolment_id == GatewaySubmission.enrolment_id, newer.number > GatewaySubmission.number)
            .exists(),
        )
        .exists()
    )


def _gateways(session: Session, assessor: User) -> dict:
    """Submissions to the assessor's EPAO waiting for their decision, one per enrolment (one query)."""
    statement = (
        select(Enrolment.id, User.name)
        .join(GatewaySubmission, GatewaySubmission.enrolment_id == Enrolment.id)
        .where(decision_awaited_clause(assessor))
    )
    total, pending = _enrolments_and_total(session, assessor, statement)
    return {"gateways_to_decide": total, "gateways_by_enrolment": pending}


def _results(session: Session, assessor: User) -> dict:
    """Apprentices in assessment with the assessor's organisation, waiting for a result (one query)."""
    statement = select(Enrolment.id, User.name).select_from(Enrolment).where(awaiting_result_clause(assessor))
    total, pending = _enrolments_and_total(session, assessor, statement)
    return {"results_to_record": total, "results_by_enrolment": pending}


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
