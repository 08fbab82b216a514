"""Three-way progress reviews: the tutor's record, the three signatures, and when the next is due.

The date arithmetic (`add_calendar_months`, `next_review_due`, `is_overdue`) is pure. The rest
takes a session and plain values and raises DomainError with the form field at fault.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, ScalarSelect, Select, case, func, or_, select
from sqlalchemy.orm import Session

from funding_rules import add_calendar_months
from standard import Signer

from ..core import audit, clock, rules
from ..core.access import (
    SIGNER_LABELS,
    SIGNER_ROLES,
    SIGNING_ROLES,
    is_tutor_of,
    signing_party,
    visible_enrolments_clause,
)
from ..core.domain import DomainError, lock_enrolment_for, lock_enrolment_for_change
from ..core.text import clean_text
from ..core.wording import long_date
from ..enrolments.domain import check_day_on_programme
from ..models import (
    Enrolment,
    EnrolmentStatus,
    ProgressReview,
    Rag,
    ReviewCriterion,
    ReviewInterval,
    ReviewSignature,
    Role,
    SigningRequest,
    SigningStatus,
    User,
)
from ..models.types import MAX_NOTE, utcnow
from ..notifications.domain import notify, people_of
from ..notifications.kinds import Kind

MAX_TEXT = 10_000
SIGNERS = (Signer.APPRENTICE, Signer.EMPLOYER, Signer.PROVIDER)
# Reviews are recorded while the apprenticeship runs (a break included: the review on return),
# and are due, so can be overdue, only while the apprentice is on programme.
OPEN_FOR_REVIEWS = (EnrolmentStatus.ON_PROGRAMME, EnrolmentStatus.BREAK_IN_LEARNING)
DUE_WHEN = (EnrolmentStatus.ON_PROGRAMME,)

# In the order of the meeting; the funding rules ask each review to record all but wellbeing.
TEXT_FIELDS = {
    "attendees": "Who attended",
    "actions_since_last": "Actions since the last review",
    "progress": "Progress against the plan",
    "otj_and_slippage": "Off-the-job training and slippage",
    "training_plan_changes": "Changes to the training plan",
    "concerns_and_changes": "Concerns and changes of circumstance",
    "wellbeing_and_support": "Wellbeing and support needs",
    "actions": "Actions agreed",
    "late_reason": "Why the review is late",
}
REQUIRED = {
    "attendees": "Say who attended",
    "progress": "Describe progress against the plan",
    "otj_and_slippage": "Describe the off-the-job training done and any slippage against the plan",
    "training_plan_changes": "Say what changes to the training plan were agreed, or that there were none",
    "concerns_and_changes": "Record any concerns and changes of circumstance, or that there were none",
    "actions": "Enter the actions agreed",
}


@dataclass(frozen=True)
class ReviewDetails:
    """What the tutor records about a review meeting."""

    review_date: date
    attendees: str
    progress: str
    otj_and_slippage: str = ""
    wellbeing_and_support: str = ""
    actions: str = ""
    actions_since_last: str = ""
    training_plan_changes: str = ""
    concerns_and_changes: str = ""
    late_reason: str = ""
    criteria: Mapping[str, tuple[Rag, str]] = field(default_factory=dict)  # code -> (rating, note)


# ---------------------------------------------------------------------------------------------
# Dates: pure arithmetic


def add_interval(day: date, interval: ReviewInterval) -> date:
    if interval is ReviewInterval.TWELVE_WEEKS:
        return day + timedelta(weeks=12)
    return add_calendar_months(day, 3)


def next_review_due(start: date, last_complete: date | None, interval: ReviewInterval) -> date:
    """One interval after the latest complete review, or after `start` (the start, or the latest
    return from a break in learning) if that is later."""
    return add_interval(max(start, last_complete) if last_complete else start, interval)


def schedule_start(enrolment: Enrolment) -> date:
    """Where the review schedule counts from, before any review: the latest return from a break
    in learning (which pauses the schedule), or the start."""
    return enrolment.resumed_on or enrolment.start_date


def is_overdue(due: date, today: date) -> bool:
    return today > due


def latest_start_due_by(interval: ReviewInterval, by: date) -> date:
    """The latest date from which the next review, one `interval` on, is due on or before `by`.

    `add_interval` never goes back as its start moves on, so stepping back from `by` finds it;
    with it, "due by" is a plain comparison of dates in SQL (`review_due_by_clause`)."""
    start = by
    while add_interval(start, interval) > by:
        start -= timedelta(days=1)
    return start


@dataclass(frozen=True)
class ReviewDue:
    due: date
    overdue: bool


def review_due(
    status: EnrolmentStatus, start: date, last_complete: date | None, interval: ReviewInterval, today: date
) -> ReviewDue | None:
    """When the next review is due and whether it is overdue; None when no review is due (not on programme)."""
    if status not in DUE_WHEN:
        return None
    due = next_review_due(start, last_complete, interval)
    return ReviewDue(due, is_overdue(due, today))


# ---------------------------------------------------------------------------------------------
# Who may do what


def may_record_review(user: User, enrolment: Enrolment) -> bool:
    return is_tutor_of(user, enrolment) and enrolment.status in OPEN_FOR_REVIEWS


def may_edit_review(user: User, review: ProgressReview, *, now: datetime | None = None) -> bool:
    """A tutor of the provider, until the first signature, and not while someone is asked by email
    to sign it (they are shown the review as it was when asked)."""
    now = now or utcnow()
    return (
        is_tutor_of(user, review.enrolment)
        and not review.signatures
        and not any(request.is_open(now) for request in review.signing_requests)
    )


def awaiting_signers(review: ProgressReview) -> list[Signer]:
    signed = {s.signer for s in review.signatures}
    return [signer for signer in SIGNERS if signer not in signed]


# ---------------------------------------------------------------------------------------------
# Changes


def create_review(
    session: Session, *, enrolment: Enrolment, author: User, details: ReviewDetails, today: date | None = None
) -> ProgressReview:
    # The latest review is a gateway check.
    lock_enrolment_for(
        session,
        enrolment,
        author,
        may_record_review,
        "Only a tutor of the training provider can record a review of this apprenticeship now",
    )
    review = ProgressReview(enrolment=enrolment, created_by=author)
    _apply(session, review, details, today or clock.today())
    audit.record_added(session, "progress_review.created", review, actor=author, after=_audited_values(review))
    _ask_for_signatures(session, review, by=author)
    return review


def update_review(
    session: Session, review: ProgressReview, *, by: User, details: ReviewDetails, today: date | None = None
) -> None:
    lock_review_for_change(session, review)
    if review.signatures:
        raise DomainError("This review has been signed, so it can no longer be changed")
    if not is_tutor_of(by, review.enrolment):
        raise DomainError("Only a tutor of the training provider can change this review")
    if not may_edit_review(by, review):
        raise DomainError("The employer has been asked by email to sign this review: withdraw the request to change it")
    with audit.recording("progress_review.updated", review, actor=by, values=_audited_values):
        _apply(session, review, details, today or clock.today())


def sign_review(
    session: Session, review: ProgressReview, *, by: User, signer: Signer, now: datetime | None = None
) -> ReviewSignature:
    """Sign for one party; the review is complete once all three have signed. The employer's user
    signing withdraws the requests emailed for the employer's signature: they are no longer needed."""
    lock_review_for_change(session, review)
    if signing_party(by, review.enrolment) is not signer:
        raise DomainError(f"You cannot sign for {SIGNER_LABELS[signer]}")
    now = now or utcnow()
    signature = _add_signature(review, ReviewSignature(signer=signer, user=by, signed_at=now), actor=by)
    _ask_for_signatures(session, review, by=by)
    if signer is Signer.EMPLOYER:
        for request in review.signing_requests:
            if request.status is SigningStatus.PENDING:
                request.status, request.closed_at = SigningStatus.WITHDRAWN, now
                audit.record_change(
                    "signing_request.withdrawn",
                    request,
                    actor=by,
                    before={"status": SigningStatus.PENDING},
                    after={"status": SigningStatus.WITHDRAWN, "reason": f"{by.name} signed for the employer"},
                )
    return signature


def sign_review_as_employer_contact(
    session: Session, review: ProgressReview, *, request: SigningRequest, witness: dict, now: datetime
) -> ReviewSignature:
    """The employer's contact of an emailed request, who may have no account, signs for the employer.
    The caller has locked the review (`lock_review_for_change`) and checked the request and the
    signer's details; the event is by nobody signed in, with `witness` (who signed) in it."""
    signature = ReviewSignature(
        signer=Signer.EMPLOYER, signing_request=request, signer_name=request.signer_name, signed_at=now
    )
    _add_signature(review, signature, actor=None, witness=witness)
    _ask_for_signatures(session, review, by=None)
    return signature


def _add_signature(
    review: ProgressReview, signature: ReviewSignature, *, actor: User | None, witness: dict | None = None
) -> ReviewSignature:
    signer = signature.signer
    if any(s.signer is signer for s in review.signatures):
        raise DomainError(f"This review has already been signed for {SIGNER_LABELS[signer]}")
    review.signatures.append(signature)
    if not awaiting_signers(review):
        review.completed_at = signature.signed_at
    after = {"signer": signer, "complete": review.completed_at is not None} | ({"witness": witness} if witness else {})
    audit.record_change("progress_review.signed", review, actor=actor, after=after)
    return signature


def _ask_for_signatures(session: Session, review: ProgressReview, *, by: User | None) -> None:
    """Tell the parties whose signature the review awaits, each person once per review: whoever
    was told at an earlier signature is not told again, and the one who acted is told at the next."""
    awaited = awaiting_signers(review)
    if not awaited:
        return
    enrolment = review.enrolment
    notify(
        session,
        people_of(session, enrolment, *(SIGNING_ROLES[signer] for signer in awaited)),
        Kind.SIGNATURE_AWAITED,
        title=f"Sign the progress review of {long_date(review.review_date)} for {enrolment.apprentice.name}",
        link=f"/enrolments/{enrolment.id}/reviews/{review.id}",
        enrolment=enrolment,
        actor=by,
        # A person signs for one party only, so once per person is once per party.
        occasion=f"review-sign:{review.id}",
    )


def check_review_date(day: date, enrolment: Enrolment, today: date) -> date:
    return check_day_on_programme(day, enrolment, today, called="The date of the review", field="review_date")


def _apply(session: Session, review: ProgressReview, details: ReviewDetails, today: date) -> None:
    enrolment = review.enrolment
    check_review_date(details.review_date, enrolment, today)
    texts = {}
    for name, label in TEXT_FIELDS.items():
        text = clean_text(getattr(details, name))
        if not text and name in REQUIRED:
            raise DomainError(REQUIRED[name], name)
        if len(text) > MAX_TEXT:
            raise DomainError(f"{label} must be {MAX_TEXT:,} characters or fewer", name)
        texts[name] = text
    gap = review_gap(session, review, details.review_date)
    if gap.previous is not None and not texts["actions_since_last"]:
        raise DomainError("Say what came of the actions agreed at the last review", "actions_since_last")
    if not gap.late:
        texts["late_reason"] = ""  # asked only of a late review
    elif not texts["late_reason"]:
        raise DomainError(f"{gap.description}: say why it is late", "late_reason")
    standard = enrolment.standard_version.standard
    criteria = {code: (rag, clean_text(note)) for code, (rag, note) in details.criteria.items()}
    for code, (rag, note) in criteria.items():
        if code not in standard:
            raise DomainError(f"{code} is not a criterion of {standard.reference}", "criteria")
        if not isinstance(rag, Rag):
            raise DomainError(f"Choose a rating for {code}", f"rag-{code}")
        if len(note) > MAX_NOTE:
            raise DomainError(f"The note on {code} must be {MAX_NOTE:,} characters or fewer", f"note-{code}")
    review.review_date = details.review_date
    for name, text in texts.items():
        setattr(review, name, text)
    _set_criteria(review, criteria, standard.codes)


@dataclass(frozen=True)
class ReviewGap:
    """How long after the previous review (or the start) a review is, against the rules' interval."""

    since: date
    previous: date | None  # the previous review's date; None for the first review
    days: int
    weeks_allowed: int

    @property
    def late(self) -> bool:
        return self.days > self.weeks_allowed * 7

    @property
    def description(self) -> str:
        weeks, days = divmod(self.days, 7)
        length = f"{weeks} weeks" + (f" and {days} day{'' if days == 1 else 's'}" if days else "")
        after = "the last review" if self.previous else "the start"
        return (
            f"This review is {length} after {after}, {long_date(self.since)}: the funding rules ask for one at "
            f"least every {self.weeks_allowed} weeks"
        )


def review_gap(session: Session, review: ProgressReview, day: date) -> ReviewGap:
    """The gap before a review on `day`: from the latest other review before it, or the start."""
    enrolment = review.enrolment
    others = ProgressReview.enrolment_id == enrolment.id, ProgressReview.review_date < day
    if review.id is not None:
        others += (ProgressReview.id != review.id,)
    previous = session.scalar(select(func.max(ProgressReview.review_date)).where(*others))
    since = previous or enrolment.start_date
    return ReviewGap(since, previous, (day - since).days, rules.rules_for(enrolment.start_date).review_weeks)


def recorded_texts(review: ProgressReview) -> list[tuple[str, str]]:
    """(label, text) of each part of the review's record, in the order of the meeting; "Not
    recorded" for an empty part, and the reason for lateness only when the review was late."""
    return [
        (label, getattr(review, name) or "Not recorded")
        for name, label in TEXT_FIELDS.items()
        if name != "late_reason" or review.late_reason
    ]


def _audited_values(review: ProgressReview) -> dict:
    """What the audit trail records of a review: its date, texts and criteria ratings."""
    criteria = {c.criterion_code: [c.rag, c.note] for c in review.criteria}  # code: [rating, note]
    return audit.values(review, "review_date", *TEXT_FIELDS) | {"criteria": criteria}


def _set_criteria(review: ProgressReview, criteria: Mapping[str, tuple[Rag, str]], order: Iterable[str]) -> None:
    # Change rows in place: deleting and re-adding a code in one flush would break its unique key.
    existing = {c.criterion_code: c for c in review.criteria}
    for code, row in existing.items():
        if code not in criteria:
            review.criteria.remove(row)
    for code in [c for c in order if c in criteria]:
        rag, note = criteria[code]
        if code in existing:
            existing[code].rag = rag
            existing[code].note = note
        else:
            review.criteria.append(ReviewCriterion(criterion_code=code, rag=rag, note=note))


def lock_review_for_change(session: Session, review: ProgressReview) -> None:
    """Read the review, its signatures and its signing requests afresh, its enrolment and then the
    review locked until commit, so that two signatures at once cannot both miss completing it, nor
    an edit slip in after a signature, nor either in the middle of a gateway submission."""
    lock_enrolment_for_change(session, review.enrolment, review)
    session.expire(review, ["signatures", "signing_requests"])


# ---------------------------------------------------------------------------------------------
# Queries for lists, the to-do list and the cohort dashboard


def reviews_to_sign_count(session: Session, user: User, *, assigned_only: bool = False) -> int:
    """Reviews of the enrolments `user` signs for that still await the party `user` signs for (one query).

    With `assigned_only`, a tutor counts only enrolments they tutor and an employer those they mentor.
    """
    signer = SIGNER_ROLES.get(user.role)
    if signer is None:
        return 0
    signed = select(ReviewSignature.id).where(
        ReviewSignature.review_id == ProgressReview.id, ReviewSignature.signer == signer
    )
    statement = (
        select(func.count(ProgressReview.id))
        .join(ProgressReview.enrolment)
        .where(visible_enrolments_clause(user), Enrolment.status != EnrolmentStatus.WITHDRAWN, ~signed.exists())
    )
    if assigned_only and user.role is Role.TUTOR:
        statement = statement.where(Enrolment.tutor_id == user.id)
    elif assigned_only and user.role is Role.EMPLOYER:
        statement = statement.where(Enrolment.mentor_id == user.id)
    return session.scalar(statement) or 0


def last_complete_review_date() -> ScalarSelect:
    """The date of the latest complete review of each Enrolment in the query, as a subquery
    correlated to it (for the enrolments of one person's lists, read by index)."""
    return (
        select(func.max(ProgressReview.review_date))
        .where(ProgressReview.enrolment_id == Enrolment.id, ProgressReview.completed_at.is_not(None))
        .correlate(Enrolment)
        .scalar_subquery()
    )


def review_due_by_clause(by: date) -> ColumnElement[bool]:
    """Enrolments whose next review is due on or before `by`, as `review_due` decides (a WHERE
    clause on Enrolment): `by` is yesterday for the overdue ones."""
    start = review_base_clause(last_complete_review_date())
    return Enrolment.status.in_(DUE_WHEN) & or_(
        *(
            (Enrolment.review_interval == interval) & (start <= latest_start_due_by(interval, by))
            for interval in ReviewInterval
        )
    )


def review_base_clause(last_complete: ColumnElement) -> ColumnElement:
    """`next_review_due`'s base in SQL: the later of the latest complete review (or the start)
    and the latest return from a break."""
    reviewed = func.coalesce(last_complete, Enrolment.start_date)
    resumed = func.coalesce(Enrolment.resumed_on, Enrolment.start_date)
    return case((resumed > reviewed, resumed), else_=reviewed)


def last_complete_review_dates(session: Session, enrolment_ids: Iterable[int] | Select) -> dict[int, date]:
    """The date of the latest complete review per enrolment, for a set of ids or a select of ids (one query).

    Enrolments with no complete review are left out; feed `review_due` for the next one.
    """
    ids = enrolment_ids if isinstance(enrolment_ids, Select) else list(enrolment_ids)
    rows = session.execute(
        select(ProgressReview.enrolment_id, func.max(ProgressReview.review_date))
        .where(ProgressReview.enrolment_id.in_(ids), ProgressReview.completed_at.is_not(None))
        .group_by(ProgressReview.enrolment_id)
    )
    return {enrolment_id: last for enrolment_id, last in rows}
