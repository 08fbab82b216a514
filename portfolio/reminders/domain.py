"""Reminders: progress reviews due and overdue, signatures and evidence reviews waiting too long,
off-the-job training behind pace and gateway declarations gone out of date.

`send_reminders` finds each kind over every apprenticeship at once (a fixed number of queries per
kind, however many there are) and tells the people who must act through `notify_all`. Each
reminder carries an occasion naming what it is about, and a person is told of an occasion once
(the notifications' unique (person, occasion)): the hourly job finds the same occasions again and
again, on however many hosts at once, and tells nobody twice. The occasions:

- a review due within 7 days, or overdue: per enrolment and due date, so a new due date (once the
  review is signed by all three) is a new occasion;
- a signature awaited for longer than REMINDER_SIGNATURE_DAYS (N): per record (a review, a
  declaration, a version of the skills scan or the training plan), party and N-day period of the
  wait, so the party is reminded after N days, then every N days while it waits;
- evidence waiting for review longer than REMINDER_REVIEW_WORKING_DAYS: per item and submission
  (to the tutor), and one summary per provider per ISO week (to its administrators);
- off-the-job training behind pace by more than REMINDER_OTJ_MARGIN_PERCENT: per enrolment and month;
- declarations out of date: per enrolment, attempt and portfolio fingerprint.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select, true
from sqlalchemy.orm import QueryableAttribute, Session, aliased, contains_eager, joinedload, selectinload

from standard import Signer

from ..core.access import SIGNING_ROLES
from ..core.clock import ENGLAND, day_of
from ..core.wording import hours_text, long_date
from ..core.working_days import latest_day_waiting_longer_than
from ..gateway.domain import GatewayStanding, gateway_standings
from ..models import (
    Enrolment,
    EnrolmentOtjHours,
    EnrolmentStatus,
    EvidenceItem,
    EvidenceStatus,
    ProgressReview,
    Role,
    SkillsScan,
    TrainingPlan,
    User,
)
from ..models.types import as_utc
from ..notifications.domain import Notice, notify_all, people_of_each
from ..notifications.kinds import Kind
from ..otj.domain import Pause, behind_pace, expected_hours
from ..progress_reviews.domain import (
    DUE_WHEN,
    OPEN_FOR_REVIEWS,
    awaiting_signers,
    last_complete_review_date,
    review_due,
    review_due_by_clause,
    schedule_start,
)
from ..training_plan import agreements
from ..training_plan.agreements import OPEN_FOR_AGREEMENTS, Document, DocumentKind
from ..training_plan.plan import TRAINING_PLAN
from ..training_plan.skills_scan import SKILLS_SCAN

DUE_SOON = timedelta(days=7)
PARTIES = (Role.APPRENTICE, Role.EMPLOYER, Role.TUTOR)
# Loaded with the enrolments, for `people_of_each` (else a query per enrolment).
WITH_PEOPLE = (Enrolment.apprentice, Enrolment.mentor, Enrolment.tutor)
PEOPLE_LOADED = tuple(joinedload(person) for person in WITH_PEOPLE)


@dataclass(frozen=True)
class ReminderSettings:
    signature_days: int = 7
    review_working_days: int = 5
    otj_margin_percent: int = 10

    @classmethod
    def from_config(cls, config: Mapping) -> ReminderSettings:
        return cls(
            signature_days=int(config["REMINDER_SIGNATURE_DAYS"]),
            review_working_days=int(config["REMINDER_REVIEW_WORKING_DAYS"]),
            otj_margin_percent=int(config["REMINDER_OTJ_MARGIN_PERCENT"]),
        )


def send_reminders(session: Session, settings: ReminderSettings, *, today: date, now: datetime) -> Counter[Kind]:
    """Tell every reminder due at `now` (`today` in England) that has not been told; how many
    notifications of each kind were written. Committed as they are told, a few kinds at a time."""
    sent: Counter[Kind] = Counter()

    def tell(kind: Kind, notices: Iterable[Notice]) -> None:
        sent[kind] += len(notify_all(session, kind, notices, now=now))

    # Each group is told before its commit: the notices hold what the queries loaded, which a
    # commit expires (reading it again would be a query per row).
    due_soon, overdue = review_reminders(session, today)
    tell(Kind.REVIEW_DUE, due_soon)
    tell(Kind.REVIEW_OVERDUE, overdue)
    session.commit()
    standings = gateway_standings(session, true(), today, options=PEOPLE_LOADED)
    awaited = review_signature_reminders(session, settings, now)
    awaited += declaration_signature_reminders(session, standings, settings, now)
    awaited += agreement_signature_reminders(session, settings, now)
    out_of_date = out_of_date_reminders(session, standings)
    tell(Kind.SIGNATURE_AWAITED, awaited)
    tell(Kind.DECLARATIONS_OUT_OF_DATE, out_of_date)
    session.commit()
    tell(Kind.EVIDENCE_WAITING, evidence_waiting_reminders(session, settings, today))
    session.commit()
    tell(Kind.OTJ_BEHIND, otj_reminders(session, settings, today))
    session.commit()
    return sent


# ---------------------------------------------------------------------------------------------
# Each kind: who must act, and on what occasion


def review_reminders(session: Session, today: date) -> tuple[list[Notice], list[Notice]]:
    """Progress reviews due within 7 days, and those overdue, to the three parties (two queries)."""
    rows = session.execute(
        select(Enrolment, last_complete_review_date().label("last_complete"))
        .where(review_due_by_clause(today + DUE_SOON))
        .options(*PEOPLE_LOADED)
        .order_by(Enrolment.id)
    ).all()
    people = people_of_each(session, [row.Enrolment for row in rows], *PARTIES)
    due_soon, overdue = [], []
    for enrolment, last_complete in rows:
        due = review_due(enrolment.status, schedule_start(enrolment), last_complete, enrolment.review_interval, today)
        if due is None:
            continue
        name, link = enrolment.apprentice.name, f"/enrolments/{enrolment.id}/reviews"
        if due.overdue:
            title = f"The progress review of {name} is overdue: it was due on {long_date(due.due)}"
            overdue.append(Notice(people[enrolment.id], title, link, enrolment=enrolment,
                                  occasion=f"review-overdue:{enrolment.id}:{due.due}"))  # fmt: skip
        else:
            title = f"The progress review of {name} is due on {long_date(due.due)}"
            due_soon.append(Notice(people[enrolment.id], title, link, enrolment=enrolment,
                                   occasion=f"review-due:{enrolment.id}:{due.due}"))  # fmt: skip
    return due_soon, overdue


def review_signature_reminders(session: Session, settings: ReminderSettings, now: datetime) -> list[Notice]:
    """Progress reviews recorded more than N days ago and still unsigned by a party, to that party
    (three queries)."""
    reviews = session.scalars(
        select(ProgressReview)
        .join(ProgressReview.enrolment)
        .where(
            ProgressReview.completed_at.is_(None),
            ProgressReview.created_at < now - timedelta(days=settings.signature_days),
            Enrolment.status.in_(OPEN_FOR_REVIEWS),
        )
        .options(
            *(contains_eager(ProgressReview.enrolment).joinedload(person) for person in WITH_PEOPLE),
            selectinload(ProgressReview.signatures),
        )
        .order_by(ProgressReview.id)
    ).all()
    people = people_of_each(session, [review.enrolment for review in reviews], *PARTIES)
    notices = []
    for review in reviews:
        enrolment = review.enrolment
        period = _period(review.created_at, now, settings.signature_days)
        held = long_date(review.review_date)
        title = f"The progress review of {enrolment.apprentice.name} on {held} awaits your signature"
        for signer in awaiting_signers(review):
            notices.append(
                Notice(
                    _of_party(people[enrolment.id], signer),
                    title,
                    f"/enrolments/{enrolment.id}/reviews/{review.id}",
                    enrolment=enrolment,
                    occasion=f"signature-awaited:review:{review.id}:{signer.value}:{period}",
                )
            )
    return notices


def declaration_signature_reminders(
    session: Session, standings: Sequence[GatewayStanding], settings: ReminderSettings, now: datetime
) -> list[Notice]:
    """Gateway declarations awaited for more than N days since the first party signed for the
    portfolio as it is, every check passing, to the parties still to sign (one query)."""
    waiting = [
        (standing, since)
        for standing in standings
        if standing.awaited
        and (since := standing.current_since) is not None
        and as_utc(since.signed_at) < now - timedelta(days=settings.signature_days)
    ]
    people = people_of_each(session, [standing.enrolment for standing, _ in waiting], *PARTIES)
    notices = []
    for standing, since in waiting:
        enrolment = standing.enrolment
        period = _period(since.signed_at, now, settings.signature_days)
        for signer in standing.awaited:
            notices.append(
                Notice(
                    _of_party(people[enrolment.id], signer),
                    f"The gateway declaration for {enrolment.apprentice.name} awaits your signature",
                    f"/enrolments/{enrolment.id}/gateway",
                    enrolment=enrolment,
                    occasion=(
                        f"signature-awaited:declaration:{enrolment.id}:{standing.attempt}:{since.id}:"
                        f"{signer.value}:{period}"
                    ),
                )
            )
    return notices


def agreement_signature_reminders(session: Session, settings: ReminderSettings, now: datetime) -> list[Notice]:
    """The current versions of skills scans and training plans ready to sign for more than N days
    and not yet agreed, to the parties still to sign (at most six queries)."""
    before = now - timedelta(days=settings.signature_days)
    waiting: list[tuple[DocumentKind, Document, datetime]] = []
    scans = _current_unagreed(session, SkillsScan, SkillsScan.prior_learning_at < before)
    plans = _current_unagreed(session, TrainingPlan, TrainingPlan.created_at < before, TrainingPlan.activities)
    for kind, documents in ((SKILLS_SCAN, scans), (TRAINING_PLAN, plans)):
        for document in documents:
            since = _ready_since(document)
            if since < before and agreements.awaiting_signers(document) and not kind.not_ready(document):
                waiting.append((kind, document, since))
    people = people_of_each(session, [document.enrolment for _, document, _ in waiting], *PARTIES)
    notices = []
    for kind, document, since in waiting:
        enrolment = document.enrolment
        period = _period(since, now, settings.signature_days)
        title = f"The {kind.name} of {enrolment.apprentice.name} (version {document.number}) awaits your signature"
        for signer in agreements.awaiting_signers(document):
            notices.append(
                Notice(
                    _of_party(people[enrolment.id], signer),
                    title,
                    kind.link(document),
                    enrolment=enrolment,
                    occasion=f"signature-awaited:{kind.path}:{document.id}:{signer.value}:{period}",
                )
            )
    return notices


def _current_unagreed(
    session: Session,
    model: type[SkillsScan] | type[TrainingPlan],
    waited: ColumnElement[bool],
    *loaded: QueryableAttribute[Any],
) -> list[Any]:
    """The newest version of each open apprenticeship's document of `model`, not agreed, where
    `waited`, with its enrolment's people, its signatures and `loaded` (two queries, and one per
    relationship in `loaded`, whatever the number)."""
    newer = aliased(model)
    return list(
        session.scalars(
            select(model)
            .join(model.enrolment)
            .where(
                model.agreed_at.is_(None),
                waited,
                Enrolment.status.in_(OPEN_FOR_AGREEMENTS),
                ~exists().where(newer.enrolment_id == model.enrolment_id, newer.number > model.number),
            )
            .options(
                *(contains_eager(model.enrolment).joinedload(person) for person in WITH_PEOPLE),
                selectinload(model.signatures),
                *(selectinload(relationship) for relationship in loaded),
            )
            .order_by(model.id)
        )
    )


def _ready_since(document: Document) -> datetime:
    """Since when the version has been ready to sign, as far as it records: a scan since its last
    step (a new version copies the steps before the change), a plan since the version was made
    (its changes before the first signature go into the same version, unrecorded on it)."""
    if isinstance(document, SkillsScan):
        steps = (document.created_at, document.rated_at, document.confirmed_at, document.prior_learning_at)
        return max(as_utc(step) for step in steps if step is not None)
    return as_utc(document.created_at)


def out_of_date_reminders(session: Session, standings: Sequence[GatewayStanding]) -> list[Notice]:
    """Declarations signed for a portfolio that has changed since, to the parties who signed them
    (one query)."""
    stale = [standing for standing in standings if any(standing.out_of_date(s.signer) for s in standing.declarations)]
    people = people_of_each(session, [standing.enrolment for standing in stale], *PARTIES)
    notices = []
    for standing in stale:
        enrolment = standing.enrolment
        parties = [person for s in standing.declarations if standing.out_of_date(s.signer)
                   for person in _of_party(people[enrolment.id], s.signer)]  # fmt: skip
        notices.append(
            Notice(
                parties,
                f"The portfolio of {enrolment.apprentice.name} changed after you signed the gateway declaration: "
                "sign it again",
                f"/enrolments/{enrolment.id}/gateway",
                enrolment=enrolment,
                occasion=f"declarations-out-of-date:{enrolment.id}:{standing.attempt}:{standing.fingerprint}",
            )
        )
    return notices


def evidence_waiting_reminders(session: Session, settings: ReminderSettings, today: date) -> list[Notice]:
    """Evidence submitted more than N working days ago and not yet reviewed: each item to the tutor,
    and a count to each provider's administrators once a week (two queries)."""
    last_day = latest_day_waiting_longer_than(settings.review_working_days, today)
    before = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=ENGLAND).astimezone(UTC)
    items = session.scalars(
        select(EvidenceItem)
        .join(EvidenceItem.enrolment)
        .where(
            EvidenceItem.status == EvidenceStatus.SUBMITTED,
            EvidenceItem.submitted_at < before,
            Enrolment.status != EnrolmentStatus.WITHDRAWN,
        )
        .options(*(contains_eager(EvidenceItem.enrolment).joinedload(person) for person in WITH_PEOPLE))
        .order_by(EvidenceItem.submitted_at, EvidenceItem.id)
    ).all()
    people = people_of_each(session, [item.enrolment for item in items], Role.TUTOR, Role.ADMIN)
    notices = []
    by_provider: dict[int, list[EvidenceItem]] = {}
    for item in items:
        enrolment = item.enrolment
        by_provider.setdefault(enrolment.provider_id, []).append(item)
        assert item.submitted_at is not None  # submitted items have been submitted
        submitted = as_utc(item.submitted_at)
        notices.append(
            Notice(
                _of_role(people[enrolment.id], Role.TUTOR),
                f"“{item.title}” from {enrolment.apprentice.name} has waited for review since "
                f"{long_date(day_of(submitted))}",
                f"/enrolments/{enrolment.id}/evidence/{item.id}",
                enrolment=enrolment,
                occasion=f"evidence-waiting:{item.id}:{int(submitted.timestamp())}",
            )
        )
    year, week, _ = today.isocalendar()
    for provider_id, waiting in by_provider.items():
        count = "1 evidence item has" if len(waiting) == 1 else f"{len(waiting)} evidence items have"
        notices.append(
            Notice(
                _of_role(people[waiting[0].enrolment_id], Role.ADMIN),
                f"{count} waited more than {settings.review_working_days} working days for a tutor's review",
                "/admin/enrolments",
                occasion=f"evidence-waiting:provider:{provider_id}:{year}-W{week:02}",
            )
        )
    return notices


def otj_reminders(session: Session, settings: ReminderSettings, today: date) -> list[Notice]:
    """Apprenticeships whose logged off-the-job hours are behind the expected pace by more than
    the margin, to the apprentice and the tutor, once a month (three queries)."""
    rows = session.execute(
        select(
            Enrolment.id,
            Enrolment.planned_otj_hours,
            Enrolment.start_date,
            Enrolment.planned_end_date,
            Enrolment.paused_days,
            Enrolment.paused_since,
            func.coalesce(EnrolmentOtjHours.logged, 0).label("logged"),
        )
        .outerjoin(EnrolmentOtjHours, EnrolmentOtjHours.enrolment_id == Enrolment.id)
        .where(Enrolment.status.in_(DUE_WHEN))
    )
    behind: dict[int, tuple[Decimal, Decimal]] = {}
    for row in rows:
        logged = Decimal(str(row.logged))
        pause = Pause.of_totals(row.start_date, row.paused_days, row.paused_since)
        expected = expected_hours(row.planned_otj_hours, row.start_date, row.planned_end_date, today, pause)
        if behind_pace(logged, expected, settings.otj_margin_percent):
            behind[row.id] = (logged, expected)
    if not behind:
        return []
    enrolments = session.scalars(
        select(Enrolment).where(Enrolment.id.in_(list(behind))).options(*PEOPLE_LOADED).order_by(Enrolment.id)
    ).all()
    people = people_of_each(session, enrolments, Role.APPRENTICE, Role.TUTOR)
    notices = []
    for enrolment in enrolments:
        logged, expected = behind[enrolment.id]
        notices.append(
            Notice(
                people[enrolment.id],
                f"Off-the-job training of {enrolment.apprentice.name} is behind pace: {hours_text(logged)} logged, "
                f"{hours_text(expected)} expected by now",
                f"/enrolments/{enrolment.id}/otj",
                enrolment=enrolment,
                occasion=f"otj-behind:{enrolment.id}:{today:%Y-%m}",
            )
        )
    return notices


# ---------------------------------------------------------------------------------------------


def _period(since: datetime, now: datetime, days: int) -> int:
    """Which period of `days` days since `since` `now` falls in: 1 from `days` days on, 2 from twice..."""
    return (now - as_utc(since)) // timedelta(days=days)


def _of_role(people: Iterable[User], role: Role) -> list[User]:
    return [person for person in people if person.role is role]


def _of_party(people: Iterable[User], signer: Signer) -> list[User]:
    """Of the enrolment's people, those who sign for `signer` (people_of's relationships)."""
    return _of_role(people, SIGNING_ROLES[signer])
