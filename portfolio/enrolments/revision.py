"""The portfolio's revision: a number on the enrolment that goes up, in the same transaction, with
every change to anything the portfolio's exports show, so that asking again for the export of an
unchanged portfolio is answered without reading the portfolio (exports/requests.py).

As with the totals, no domain function is trusted to remember it: a session hook raises the
revision of every enrolment whose rows of `SHOWN` a flush wrote. The raise is an UPDATE of a
column no key refers to, so it takes FOR NO KEY UPDATE, as `lock_enrolment_for_change` does:
changes of one enrolment queue up, and rows that merely refer to it do not wait. A person's or an organisation's
name can appear anywhere in a portfolio (who uploaded, decided, signed), so renaming one raises
every enrolment's revision; renames are rare. A test checks that `SHOWN` covers every table the
export's gathering reads.
"""

from __future__ import annotations

from sqlalchemy import event, select, true, update
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.attributes import PASSIVE_NO_INITIALIZE, get_history

from ..models import (
    AgreementSignature,
    AssessmentAttempt,
    AssessmentMethodResult,
    BehaviourDecision,
    BehaviourVerification,
    CriterionJudgement,
    CriterionLink,
    Enrolment,
    EvidenceFile,
    EvidenceItem,
    EvidenceStatusChange,
    GatewayDeclaration,
    GatewayItemDecision,
    GatewaySubmission,
    LearningBreak,
    Organisation,
    OtjEntry,
    PlannedActivity,
    PriorLearning,
    ProgressReview,
    ReviewCriterion,
    ReviewSignature,
    SkillsScan,
    SkillsScanRating,
    TrainingPlan,
    User,
    WitnessSignature,
)
from .flushes import enrolments_touched

# The rows of a portfolio that its exports show (or may come to show), each with its enrolment.
SHOWN = (
    Enrolment,
    EvidenceItem,
    EvidenceFile,
    CriterionLink,
    EvidenceStatusChange,
    WitnessSignature,
    CriterionJudgement,
    OtjEntry,
    ProgressReview,
    ReviewCriterion,
    ReviewSignature,
    GatewayDeclaration,
    GatewaySubmission,
    GatewayItemDecision,
    LearningBreak,  # the pace an export shows leaves their days out
    AssessmentAttempt,
    AssessmentMethodResult,
    BehaviourVerification,
    BehaviourDecision,
    SkillsScan,
    SkillsScanRating,
    PriorLearning,
    TrainingPlan,
    PlannedActivity,
    AgreementSignature,
)
# Rows whose names a portfolio shows, with no enrolment of their own.
NAMED = (User, Organisation)


def keep_revisions() -> None:
    """Raise revisions after every flush of any session (called once by the app factory)."""
    if not event.contains(Session, "after_flush", _raise_what_the_flush_touched):
        event.listen(Session, "after_flush", _raise_what_the_flush_touched)


def _raise_what_the_flush_touched(session: Session, flush_context: UOWTransaction) -> None:
    if any(_renamed(obj) for obj in session.dirty if isinstance(obj, NAMED)):
        _raise(session, None)
    elif enrolment_ids := enrolments_touched(session, SHOWN):
        _raise(session, enrolment_ids)


def _renamed(obj: User | Organisation) -> bool:
    # The name as the flush found it, never loaded for the question (a rename has it loaded).
    return bool(get_history(obj, "name", passive=PASSIVE_NO_INITIALIZE).deleted)


def _raise(session: Session, enrolment_ids: set[int] | None) -> None:
    """Raise the revision of these enrolments, or of every one (None)."""
    which = Enrolment.id.in_(sorted(enrolment_ids)) if enrolment_ids is not None else true()
    connection = session.connection()
    if enrolment_ids is None or len(enrolment_ids) > 1:
        # Lock in id order first, as the totals' recount does, so that two transactions raising
        # the same enrolments queue up rather than deadlock.
        connection.execute(select(Enrolment.id).where(which).order_by(Enrolment.id).with_for_update(key_share=True))
    connection.execute(update(Enrolment).where(which).values(portfolio_revision=Enrolment.portfolio_revision + 1))
