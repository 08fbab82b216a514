"""Evidence review, comments, criterion judgements and witness testimony.

A tutor of the apprentice's provider starts a review of a submitted item, which records them
as its reviewer so that another tutor does not decide it at the same time (another tutor may
take the review over, explicitly); the reviewer then accepts the item or refers it back with
feedback. Tutors judge each criterion against the pinned standard's scale; judgements are
append-only and the newest per criterion is current. People of the apprentice's employer
write witness testimony, which they may change until they sign it and nobody may after.

Views pass plain values; broken rules raise DomainError and leave the session's objects to
be rolled back by the caller. (Named `reviewing`, not `review`, because the `review/` package
holds the pages; that package re-exports the to-do counts.)
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from ..core import audit, clock
from ..core.access import (
    is_employer_of,
    is_tutor_of,
    may_comment_on_evidence,
    may_judge_criteria,
)
from ..core.domain import DomainError, lock_enrolment_for, required_text
from ..core.permissions import may_change_evidence
from ..core.text import clean_text
from ..evidence.items import (
    MAX_TEXT,
    OPEN_FOR_EVIDENCE,
    EvidenceDetails,
    apply_details,
    audited_values,
    change_evidence_status,
    check_not_with_epao,
    is_author,
    is_witness_testimony,
    item_path,
    lock_item_for_change,
    move_evidence_status,
)
from ..models import (
    CriterionDecision,
    CriterionJudgement,
    Enrolment,
    EvidenceComment,
    EvidenceItem,
    EvidenceKind,
    EvidenceStatus,
    EvidenceStatusChange,
    LinkDecision,
    Role,
    SigningRequest,
    User,
    WitnessSignature,
)
from ..models.types import MAX_NOTE, utcnow
from ..notifications.domain import notify, people_of
from ..notifications.kinds import Kind
from .queue import queue_clause, tutors_of

MAX_FEEDBACK = 2_000
MAX_COMMENT = 2_000
MAX_SIGNED_NAME = 200
MAX_JOB_TITLE = 200


class Decision(enum.Enum):
    ACCEPT = "accept"
    REFER = "refer"

    @property
    def label(self) -> str:
        return {"accept": "Accept", "refer": "Refer back to the apprentice"}[self.value]

    @property
    def status(self) -> EvidenceStatus:
        return {"accept": EvidenceStatus.ACCEPTED, "refer": EvidenceStatus.REFERRED}[self.value]

    @property
    def link_decision(self) -> LinkDecision:
        return {"accept": LinkDecision.ACCEPTED, "refer": LinkDecision.REFERRED}[self.value]

    @property
    def criterion_label(self) -> str:
        return self.link_decision.label.lower()


# What waits, for the home page -------------------------------------------------------------


def awaiting_review_count(session: Session, tutor: User) -> int:
    """How many submitted items wait for a decision at the tutor's provider (one query)."""
    return (
        session.scalar(select(func.count(EvidenceItem.id)).join(EvidenceItem.enrolment).where(queue_clause(tutor))) or 0
    )


def referred_count(session: Session, apprentice: User, *, enrolment: Enrolment | None = None) -> int:
    """How many of the apprentice's own items (of one enrolment, if given) are referred back for
    them to fix (one query)."""
    statement = (
        select(func.count(EvidenceItem.id))
        .join(EvidenceItem.enrolment)
        .where(
            Enrolment.apprentice_id == apprentice.id,
            EvidenceItem.created_by_id == apprentice.id,
            EvidenceItem.status == EvidenceStatus.REFERRED,
        )
    )
    if enrolment is not None:
        statement = statement.where(EvidenceItem.enrolment_id == enrolment.id)
    return session.scalar(statement) or 0


# Reviewing an item --------------------------------------------------------------------------


def start_review(session: Session, item: EvidenceItem, *, by: User, take_over: bool = False) -> None:
    """Record `by` as the item's reviewer; refused while another tutor reviews it, unless taking over."""
    lock_item_for_change(session, item)
    _check_reviewer(item, by)
    if item.status is not EvidenceStatus.SUBMITTED:
        raise DomainError(f"Evidence that is {item.status.label.lower()} is not waiting for review")
    if item.reviewer_id == by.id and item.review_started_at is not None:
        return
    if item.reviewer_id not in (None, by.id) and not take_over:
        raise DomainError(_taken_message(item))
    previous_reviewer = item.reviewer.name if item.reviewer is not None else None
    # One guarded UPDATE, so that of two tutors starting at once only one becomes the reviewer.
    guard = [EvidenceItem.id == item.id, EvidenceItem.status == EvidenceStatus.SUBMITTED]
    if not take_over:
        guard.append(EvidenceItem.reviewer_id.is_(None) | (EvidenceItem.reviewer_id == by.id))
    claimed = session.execute(
        update(EvidenceItem)
        .where(*guard)
        .values(reviewer_id=by.id, review_started_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.expire(item)
    if claimed != 1:
        raise DomainError(_taken_message(item))
    audit.record_change(
        "evidence.review_started", item, actor=by, before={"reviewer": previous_reviewer}, after={"reviewer": by.name}
    )


def decide(
    session: Session,
    item: EvidenceItem,
    *,
    by: User,
    decision: Decision | None = None,
    feedback: str = "",
    criteria: Mapping[str, tuple[Decision, str]] | None = None,
) -> None:
    """Accept or refer back each criterion the item claims, with feedback for each referred one:
    `criteria` as {code: (decision, feedback)}, or `decision` and `feedback` for all of them. The
    item is accepted when every criterion is, referred back when any is. Only its reviewer
    decides; a referral keeps them as its reviewer for the resubmission."""
    lock_item_for_change(session, item)
    _check_reviewer(item, by)
    if item.status is not EvidenceStatus.SUBMITTED:
        raise DomainError(f"Evidence that is {item.status.label.lower()} is not waiting for a decision")
    if item.reviewer_id is None or (item.reviewer_id == by.id and item.review_started_at is None):
        raise DomainError("Start the review before you record a decision")
    if item.reviewer_id != by.id:
        raise DomainError(_taken_message(item))
    decided = _criteria_decided(item, decision, feedback, criteria)
    overall = Decision.ACCEPT if all(d is Decision.ACCEPT for d, _ in decided.values()) else Decision.REFER
    if not may_change_evidence(by.role, item.status, overall.status):
        raise DomainError("You cannot decide on this evidence")
    # Guarded: a tutor who took the review over meanwhile wins, and this decision is refused. A
    # referral keeps its reviewer, so that the resubmission comes back to them.
    claimed = session.execute(
        update(EvidenceItem)
        .where(
            EvidenceItem.id == item.id,
            EvidenceItem.status == EvidenceStatus.SUBMITTED,
            EvidenceItem.reviewer_id == by.id,
            EvidenceItem.review_started_at.is_not(None),
        )
        .values(reviewer_id=by.id if overall is Decision.REFER else None, review_started_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        session.expire(item)
        raise DomainError(_taken_message(item))
    session.expire(item, ["reviewer_id", "review_started_at", "reviewer"])
    now = utcnow()
    for link in item.links:
        choice, note = decided[link.criterion_code]
        link.decision, link.feedback = choice.link_decision, note
        link.decided_by, link.decided_at = by, now
        item.decisions.append(
            CriterionDecision(
                criterion_code=link.criterion_code,
                decision=choice.link_decision,
                feedback=note,
                attempt=item.attempt,
                decided_by=by,
                decided_at=now,
            )
        )
    note = _decision_note(decided)
    change_evidence_status(item, overall.status, by, note)
    outcome = "accepted" if overall is Decision.ACCEPT else "referred back"
    notify(
        session,
        people_of(session, item.enrolment, Role.APPRENTICE),
        Kind.EVIDENCE_DECIDED,
        title=f"Evidence {outcome} by {by.name}: {item.title}",
        body=note,
        link=item_path(item),
        enrolment=item.enrolment,
        actor=by,
    )
    session.flush()


def _criteria_decided(
    item: EvidenceItem,
    decision: Decision | None,
    feedback: str,
    criteria: Mapping[str, tuple[Decision, str]] | None,
) -> dict[str, tuple[Decision, str]]:
    """Each claimed criterion's decision and cleaned feedback, checked; a DomainError names the
    criterion's field ("<code>-decision", "<code>-feedback") when deciding each."""
    codes = [link.criterion_code for link in item.links]
    each = criteria is not None
    if criteria is None:
        if decision is None:
            raise DomainError("Choose whether to accept the evidence or refer it back", "decision")
        criteria = {code: (decision, feedback) for code in codes}
    if unknown := sorted(set(criteria) - set(codes)):
        raise DomainError(f"The evidence does not claim {', '.join(unknown)}")
    decided = {}
    for code in codes:
        prefix, field = (f"{code}: ", f"{code}-") if each else ("", "")
        if code not in criteria:
            raise DomainError(f"{prefix}Choose whether to accept {code} or refer it back", f"{field}decision")
        choice, text = criteria[code]
        text = clean_text(text)
        if choice is Decision.REFER and not text:
            raise DomainError(
                f"{prefix}Give feedback that says what the apprentice needs to change", f"{field}feedback"
            )
        if len(text) > MAX_FEEDBACK:
            raise DomainError(f"{prefix}The feedback must be {MAX_FEEDBACK:,} characters or fewer", f"{field}feedback")
        decided[code] = (choice, text)
    return decided


def _decision_note(decided: Mapping[str, tuple[Decision, str]]) -> str:
    """The feedback as the item's history and the apprentice's notification give it: the one text
    given for all criteria, or each criterion's decision with its feedback."""
    texts = {text for _, text in decided.values()}
    choices = {choice for choice, _ in decided.values()}
    if len(texts) == 1 and len(choices) == 1:
        return texts.pop()
    return "\n".join(
        f"{code}: {choice.criterion_label}" + (f". {text}" if text else "") for code, (choice, text) in decided.items()
    )


def latest_decision(item: EvidenceItem) -> EvidenceStatusChange | None:
    """The newest accept or refer-back of the item, with its feedback in `note`."""
    decided = (EvidenceStatus.ACCEPTED, EvidenceStatus.REFERRED)
    return next((change for change in reversed(item.history) if change.to_status in decided), None)


def _check_reviewer(item: EvidenceItem, by: User) -> None:
    enrolment = item.enrolment
    if not is_tutor_of(by, enrolment):
        raise DomainError("You cannot review this evidence")
    if by.id == enrolment.apprentice_id or is_author(by, item):
        raise DomainError("You cannot review evidence you wrote yourself")
    check_not_with_epao(enrolment)


def reviewers_to_give(session: Session, item: EvidenceItem, *, by: User) -> list[User]:
    """The tutors `by` can give a submitted item's review to: the provider's other active tutors
    but its reviewer and its author (one query)."""
    return [
        tutor
        for tutor in tutors_of(session, item.enrolment.provider_id, active_only=True)
        if tutor.id not in (by.id, item.reviewer_id) and not is_author(tutor, item)
    ]


def reassign_review(session: Session, item: EvidenceItem, *, by: User, to: User) -> None:
    """Give a submitted item's review to another tutor of the provider, who starts it when ready."""
    lock_item_for_change(session, item)
    _check_reviewer(item, by)
    if item.status is not EvidenceStatus.SUBMITTED:
        raise DomainError(f"Evidence that is {item.status.label.lower()} is not waiting for review")
    if not is_tutor_of(to, item.enrolment) or to.id == item.enrolment.apprentice_id or is_author(to, item):
        raise DomainError("Choose a tutor of the apprentice's provider who did not write the evidence", "reviewer")
    if item.reviewer_id == to.id:
        return
    previous_reviewer = item.reviewer.name if item.reviewer is not None else None
    item.reviewer, item.review_started_at = to, None
    audit.record_change(
        "evidence.review_reassigned",
        item,
        actor=by,
        before={"reviewer": previous_reviewer},
        after={"reviewer": to.name},
    )
    if to.id != by.id:
        notify(
            session,
            [to],
            Kind.EVIDENCE_SUBMITTED,
            title=f"{by.name} gave you the review of {item.title}",
            link=item_path(item),
            enrolment=item.enrolment,
            actor=by,
        )
    session.flush()


def _taken_message(item: EvidenceItem) -> str:
    if item.status is not EvidenceStatus.SUBMITTED:
        return f"This evidence has been decided meanwhile: it is {item.status.label.lower()}"
    if item.reviewer is not None and item.review_started_at is None:
        return f"This evidence goes back to {item.reviewer.name}, who referred it. Take over the review to decide it."
    if item.reviewer is not None:
        return f"{item.reviewer.name} is reviewing this evidence. Take over the review to decide it."
    return "Start the review before you record a decision"


# Comments -----------------------------------------------------------------------------------


def add_comment(session: Session, item: EvidenceItem, *, by: User, body: str) -> EvidenceComment:
    """A message in the item's thread from its apprentice, employer or tutor."""
    if not may_comment_on_evidence(by, item.enrolment):
        raise DomainError("You cannot comment on this evidence")
    body = clean_text(body)
    if not body:
        raise DomainError("Write a comment", "comment")
    if len(body) > MAX_COMMENT:
        raise DomainError(f"The comment must be {MAX_COMMENT:,} characters or fewer", "comment")
    comment = EvidenceComment(item=item, author=by, body=body)
    session.add(comment)
    audit.record_change("evidence.commented", item, actor=by, after={"comment": body})
    if item.status is not EvidenceStatus.DRAFT:  # a draft is its author's alone, its thread too
        enrolment = item.enrolment
        notify(
            session,
            people_of(session, enrolment, Role.APPRENTICE, Role.EMPLOYER, Role.TUTOR),
            Kind.COMMENT,
            title=f"{by.name} commented on {item.title}",
            body=body,
            link=f"{item_path(item)}#comments",
            enrolment=enrolment,
            actor=by,
        )
    return comment


def comments_on(session: Session, item: EvidenceItem) -> list[EvidenceComment]:
    """The item's thread, oldest first, with each author (one query)."""
    return list(
        session.scalars(
            select(EvidenceComment)
            .where(EvidenceComment.item_id == item.id)
            .options(joinedload(EvidenceComment.author))
            .order_by(EvidenceComment.created_at, EvidenceComment.id)
        )
    )


# Criterion judgements -----------------------------------------------------------------------


def record_judgement(
    session: Session, enrolment: Enrolment, *, by: User, code: str, level_code: str, note: str = ""
) -> CriterionJudgement:
    """Append a judgement of one criterion; it becomes the current one."""
    [judgement] = record_judgements(session, enrolment, by=by, judgements={code: (level_code, note)})
    return judgement


def record_judgements(
    session: Session, enrolment: Enrolment, *, by: User, judgements: Mapping[str, tuple[str, str]]
) -> list[CriterionJudgement]:
    """Append a judgement of each criterion given, {code: (level code, note)}, in one transaction:
    all of them, or none if any is wrong (the error names the criterion, as field
    "<code>-level" or "<code>-note" when judging several). One notification tells the lot."""
    lock_enrolment_for(session, enrolment, by, may_judge_criteria, "You cannot judge this apprentice's criteria")
    check_not_with_epao(enrolment)
    standard = enrolment.standard_version.standard
    if not judgements:
        raise DomainError("Choose a judgement for at least one criterion")
    several = len(judgements) > 1
    made = []
    for code, (level_code, note) in judgements.items():
        if code not in standard:
            raise DomainError(f"{code} is not a criterion of {standard.reference}")
        prefix, field_prefix = (f"{code}: ", f"{code}-") if several else ("", "")
        level = standard.judgement_level(level_code)
        if level is None:
            raise DomainError(f"{prefix}Choose a level from the standard's judgement scale", f"{field_prefix}level")
        note = clean_text(note)
        if len(note) > MAX_NOTE:
            raise DomainError(f"{prefix}The note must be {MAX_NOTE:,} characters or fewer", f"{field_prefix}note")
        judgement = CriterionJudgement(
            enrolment=enrolment, criterion_code=code, level_code=level.code, met=level.met, note=note, judged_by=by
        )
        session.add(judgement)
        made.append((judgement, level))
    session.flush()  # their ids, for the events
    audit.record_changes(
        session,
        [
            audit.Change("judgement.recorded", j, after=audit.values(j, "criterion_code", "level_code", "met", "note"))
            for j, _ in made
        ],
        actor=by,
    )
    if several:
        title = f"{len(made)} criteria judged by {by.name}: " + ", ".join(
            f"{j.criterion_code} {lv.label}" for j, lv in made
        )
        body, link = "", f"/enrolments/{enrolment.id}/judgements"
    else:
        [(judgement, level)] = made
        title = f"{judgement.criterion_code} judged by {by.name}: {level.label}"
        body, link = judgement.note, f"/enrolments/{enrolment.id}/judgements/{judgement.criterion_code}"
    notify(
        session,
        people_of(session, enrolment, Role.APPRENTICE),
        Kind.JUDGEMENT,
        title=title[:300],
        body=body,
        link=link,
        enrolment=enrolment,
        actor=by,
    )
    return [judgement for judgement, _ in made]


def current_judgements(session: Session, enrolment: Enrolment) -> dict[str, CriterionJudgement]:
    """The current (newest) judgement of each judged criterion, with who made it (one query)."""
    newest = (
        select(func.max(CriterionJudgement.id))
        .where(CriterionJudgement.enrolment_id == enrolment.id)
        .group_by(CriterionJudgement.criterion_code)
    )
    judgements = session.scalars(
        select(CriterionJudgement)
        .where(CriterionJudgement.id.in_(newest))
        .options(joinedload(CriterionJudgement.judged_by))
    )
    return {j.criterion_code: j for j in judgements}


def judgement_history(session: Session, enrolment: Enrolment, code: str) -> list[CriterionJudgement]:
    """Every judgement of one criterion, newest (the current one) first (one query)."""
    return list(
        session.scalars(
            select(CriterionJudgement)
            .where(CriterionJudgement.enrolment_id == enrolment.id, CriterionJudgement.criterion_code == code)
            .options(joinedload(CriterionJudgement.judged_by))
            .order_by(CriterionJudgement.id.desc())
        )
    )


# Witness testimony --------------------------------------------------------------------------


@dataclass(frozen=True)
class WitnessTestimony:
    """What a witness writes about the apprentice's work."""

    title: str
    activity_date: date
    text: str
    links: Mapping[str, str] = field(default_factory=dict)  # criterion code -> justification


def may_write_testimony(user: User, enrolment: Enrolment) -> bool:
    return is_employer_of(user, enrolment) and enrolment.status in OPEN_FOR_EVIDENCE


def create_testimony(
    session: Session, *, enrolment: Enrolment, author: User, testimony: WitnessTestimony, today: date | None = None
) -> EvidenceItem:
    """A draft witness testimony by `author`, private to them until they sign it."""
    lock_enrolment_for(
        session, enrolment, author, may_write_testimony, "You cannot give witness testimony for this apprentice now"
    )
    item = EvidenceItem(enrolment=enrolment, created_by=author, status=EvidenceStatus.DRAFT)
    _apply_testimony(item, testimony, today)
    session.add(item)
    session.add(EvidenceStatusChange(item=item, from_status=None, to_status=EvidenceStatus.DRAFT, changed_by=author))
    audit.record_change("testimony.created", item, actor=author, after=audited_values(item))
    return item


def update_testimony(
    session: Session, item: EvidenceItem, *, by: User, testimony: WitnessTestimony, today: date | None = None
) -> None:
    lock_item_for_change(session, item)
    _check_unsigned(item, by)
    with audit.recording("testimony.updated", item, actor=by, values=audited_values):
        _apply_testimony(item, testimony, today)


def sign_testimony(
    session: Session, item: EvidenceItem, *, by: User, signed_name: str, job_title: str
) -> WitnessSignature:
    """The witness signs their testimony with their name and job title; that submits it for review."""
    lock_item_for_change(session, item)
    _check_unsigned(item, by)
    signed_name = required_text(
        signed_name, maximum=MAX_SIGNED_NAME, one_line=True, missing="Enter your full name", called="Your name",
        field="signed_name",
    )  # fmt: skip
    job_title = required_text(
        job_title, maximum=MAX_JOB_TITLE, one_line=True, missing="Enter your job title", called="Your job title",
        field="job_title",
    )  # fmt: skip
    _check_links(item)
    change_evidence_status(item, EvidenceStatus.SUBMITTED, by)
    item.submitted_at = utcnow()
    signature = WitnessSignature(item=item, signed_by=by, signed_name=signed_name, job_title=job_title)
    session.add(signature)
    after = {"signed_name": signed_name, "job_title": job_title}
    audit.record_change("testimony.signed", item, actor=by, after=after)
    _announce_signed(session, item, signed_name, body=f"{signed_name}, {job_title}, signed it.", actor=by)
    return signature


def sign_testimony_as_witness(
    session: Session,
    item: EvidenceItem,
    *,
    request: SigningRequest,
    signed_name: str,
    job_title: str,
    text: str,
    witness: Mapping[str, object],
    now: datetime,
) -> WitnessSignature:
    """The witness of an emailed request, who has no account, signs `text` as their testimony,
    which submits it for review. The caller has locked the item (`lock_item_for_change`) and checked
    the request and the witness's details; the event is by nobody signed in, with `witness` in it."""
    if item.status is not EvidenceStatus.DRAFT:
        raise DomainError("This testimony has been signed, so it can no longer be changed")
    check_not_with_epao(item.enrolment)
    if item.enrolment.status not in OPEN_FOR_EVIDENCE:
        raise DomainError("This apprenticeship is not taking evidence now")
    _check_links(item)
    item.description = checked_testimony_text(text)
    note = f"Signed by {signed_name}, {job_title}, through the request emailed to {request.witness_email}"
    move_evidence_status(item, EvidenceStatus.SUBMITTED, changed_by=request.requested_by, actor=None, note=note)
    item.submitted_at = now
    signature = WitnessSignature(
        item=item, signing_request=request, signed_name=signed_name, job_title=job_title, signed_at=now
    )
    session.add(signature)
    after = {"signed_name": signed_name, "job_title": job_title, "text": item.description, "witness": witness}
    audit.record_change("testimony.signed", item, actor=None, after=after)
    relationship = witness.get("relationship")
    how = f"{signed_name}, {job_title}" + (f" ({relationship})" if relationship else "")
    _announce_signed(session, item, signed_name, body=f"{how}, signed it through the request emailed to them.")
    return signature


def _announce_signed(
    session: Session, item: EvidenceItem, signed_name: str, *, body: str, actor: User | None = None
) -> None:
    """A signed testimony goes for review: its apprentice and tutors are told."""
    enrolment = item.enrolment
    notify(
        session,
        people_of(session, enrolment, Role.APPRENTICE, Role.TUTOR),
        Kind.TESTIMONY_SIGNED,
        title=f"{signed_name} signed the witness testimony “{item.title}”",
        body=body,
        link=f"/enrolments/{enrolment.id}/evidence/{item.id}",
        enrolment=enrolment,
        actor=actor,
    )


def signature_of(session: Session, item: EvidenceItem) -> WitnessSignature | None:
    """The testimony's signature, with its signing request if a witness without an account signed it."""
    if item.kind is not EvidenceKind.WITNESS_TESTIMONY:
        return None
    return session.scalar(
        select(WitnessSignature)
        .where(WitnessSignature.item_id == item.id)
        .options(joinedload(WitnessSignature.signing_request))
    )


def checked_testimony_text(text: str) -> str:
    """A testimony's text, cleaned; DomainError on the `text` field if it is blank or too long."""
    return required_text(text, maximum=MAX_TEXT, missing="Write your testimony", called="The testimony", field="text")


def _check_links(item: EvidenceItem) -> None:
    if not item.links:
        raise DomainError("Choose at least one criterion the testimony shows before you sign it")
    if missing := [link.criterion_code for link in item.links if not link.justification.strip()]:
        raise DomainError(f"Explain how the testimony shows {', '.join(missing)} before you sign it")


def _check_unsigned(item: EvidenceItem, by: User) -> None:
    if not is_witness_testimony(item) or item.created_by_id != by.id:
        raise DomainError("You cannot change this testimony")
    if item.signing_requests:
        raise DomainError("This testimony is for the witness you asked by email to sign, through their link")
    if item.status is not EvidenceStatus.DRAFT:
        raise DomainError("This testimony has been signed, so it can no longer be changed")
    check_not_with_epao(item.enrolment)
    if not may_write_testimony(by, item.enrolment):
        raise DomainError("You cannot change this testimony now")


def _apply_testimony(item: EvidenceItem, testimony: WitnessTestimony, today: date | None) -> None:
    apply_testimony_details(item, testimony, today, text=checked_testimony_text(testimony.text))


def apply_testimony_details(item: EvidenceItem, testimony: WitnessTestimony, today: date | None, *, text: str) -> None:
    """Copy the testimony's title, date, criteria and `text` (checked by the caller) onto the item."""
    details = EvidenceDetails(
        title=testimony.title,
        kind=EvidenceKind.WITNESS_TESTIMONY,
        activity_date=testimony.activity_date,
        description=text,
        links=testimony.links,
    )
    try:
        apply_details(item, details, today or clock.today())
    except DomainError as error:
        if error.field == "description":
            raise DomainError(error.message.replace("description", "testimony"), "text") from None
        raise
