"""Calendar links: a secret address per user for a feed of their progress reviews and deadlines.

Only the link's SHA-256 is kept (as for sign-in sessions), so the link is shown once, when it is
made. A user has at most one link that works: making another replaces it, turning it off
revokes it; either way the old address then finds nothing. The feed lists what the user may
already see (`visible_enrolments_clause`), read afresh on every fetch in a fixed number of queries.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from funding_rules import add_calendar_months

from ..core import audit, rules
from ..core.access import visible_enrolments_clause
from ..core.domain import DomainError, lock_and_reload
from ..core.sign_in_sessions import token_hash
from ..core.wording import long_date
from ..models import CalendarFeed, Enrolment, EnrolmentStatus, ProgressReview, User
from ..models.types import utcnow
from ..progress_reviews.domain import last_complete_review_dates, review_due, schedule_start

# The apprenticeships a feed lists: those still running. An administrator sees every one of the
# installation, so a feed lists at most this many, those ending soonest first.
LISTED = (
    EnrolmentStatus.ON_PROGRAMME,
    EnrolmentStatus.BREAK_IN_LEARNING,
    EnrolmentStatus.AT_GATEWAY,
    EnrolmentStatus.IN_EPA,
)
MAX_ENROLMENTS = 500
BEFORE_GATEWAY = (EnrolmentStatus.ON_PROGRAMME, EnrolmentStatus.BREAK_IN_LEARNING)
TOKEN_BYTES = 32  # 43 characters in the link
NO_LINK = "You have no calendar link to turn off."


@dataclass(frozen=True)
class NewLink:
    """A link just made: its token is known only now, to be shown once."""

    feed: CalendarFeed
    token: str
    replaced: bool


@dataclass(frozen=True)
class FeedEvent:
    """An all-day event of a feed. `uid` is stable, so calendar apps update it rather than add
    another; `page` is the endpoint and arguments of the page about it."""

    uid: str
    day: date
    summary: str
    description: str
    page: tuple[str, dict[str, int]]


def active_feed(session: Session, user: User) -> CalendarFeed | None:
    working = select(CalendarFeed).where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
    return session.scalar(working)


def make_link(session: Session, user: User) -> NewLink:
    """A new calendar link for `user`, replacing the one they had; audited, never its token."""
    lock_and_reload(session, user)  # one change of a user's links at a time: one link works
    old = active_feed(session, user)
    if old is not None:
        old.revoked_at = utcnow()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed = CalendarFeed(user=user, token_hash=token_hash(token))
    session.add(feed)
    session.flush()
    after = {"calendar_link": feed.id} | ({"replaces": old.id} if old else {})
    action = "calendar.link_replaced" if old else "calendar.link_created"
    audit.record(session, action, actor=user, subject_type="user", subject_id=user.id, after=after)
    return NewLink(feed, token, replaced=old is not None)


def turn_off(session: Session, user: User) -> None:
    """Revoke `user`'s calendar link; DomainError if they have none."""
    lock_and_reload(session, user)
    feed = active_feed(session, user)
    if feed is None:
        raise DomainError(NO_LINK)
    feed.revoked_at = utcnow()
    after = {"calendar_link": feed.id}
    audit.record(session, "calendar.link_turned_off", actor=user, subject_type="user", subject_id=user.id, after=after)


def feed_with_token(session: Session, token: str) -> CalendarFeed | None:
    """The working link with this token, or None: unknown, revoked, or its user deactivated."""
    feed = session.scalar(
        select(CalendarFeed).where(CalendarFeed.token_hash == token_hash(token), CalendarFeed.revoked_at.is_(None))
    )
    return feed if feed is not None and feed.user.active else None


def feed_events(session: Session, user: User, today: date) -> list[FeedEvent]:
    """The events of `user`'s feed (four queries, however many apprenticeships): for each running
    apprenticeship they see, the next progress review due, the reviews recorded, the earliest
    gateway to completion and the planned end. Nobody is named but the apprentice."""
    enrolments = session.scalars(
        select(Enrolment)
        .where(visible_enrolments_clause(user), Enrolment.status.in_(LISTED))
        .options(joinedload(Enrolment.apprentice), selectinload(Enrolment.standard_version))
        .order_by(Enrolment.planned_end_date, Enrolment.id)
        .limit(MAX_ENROLMENTS)
    ).all()
    ids = [enrolment.id for enrolment in enrolments]
    last_complete = last_complete_review_dates(session, ids)
    reviews = session.execute(
        select(ProgressReview.id, ProgressReview.enrolment_id, ProgressReview.review_date, ProgressReview.completed_at)
        .where(ProgressReview.enrolment_id.in_(ids))
        .order_by(ProgressReview.review_date, ProgressReview.id)
    ).all()
    by_id = {enrolment.id: enrolment for enrolment in enrolments}
    events = []
    for enrolment in enrolments:
        events += _enrolment_events(enrolment, last_complete.get(enrolment.id), today)
    for review_id, enrolment_id, review_date, completed_at in reviews:
        enrolment = by_id[enrolment_id]
        events.append(
            FeedEvent(
                f"review-{review_id}",
                review_date,
                f"Progress review: {enrolment.apprentice.name}",
                _about(enrolment, "Signed by all three." if completed_at else "Not yet signed by all three."),
                ("progress_reviews.review", {"enrolment_id": enrolment_id, "review_id": review_id}),
            )
        )
    return events


def _enrolment_events(enrolment: Enrolment, last_complete: date | None, today: date) -> list[FeedEvent]:
    name, page = enrolment.apprentice.name, {"enrolment_id": enrolment.id}
    events = []
    due = review_due(enrolment.status, schedule_start(enrolment), last_complete, enrolment.review_interval, today)
    if due is not None:
        after = f"the last complete review, {long_date(last_complete)}" if last_complete else "the start"
        every = enrolment.review_interval.label.lower()
        events.append(
            FeedEvent(
                f"review-due-{enrolment.id}",
                due.due,
                f"Progress review due: {name}",
                _about(enrolment, f"Reviews are due {every}; this one counts from {after}."),
                ("progress_reviews.reviews", page),
            )
        )
    if enrolment.status in BEFORE_GATEWAY:
        months = rules.minimum_months_on_programme(enrolment)
        events.append(
            FeedEvent(
                f"gateway-earliest-{enrolment.id}",
                add_calendar_months(enrolment.start_date, months),
                f"Earliest gateway to completion: {name}",
                _about(enrolment, f"The minimum time on programme, {months} months, is reached."),
                ("gateway.gateway", page),
            )
        )
    events.append(
        FeedEvent(
            f"planned-end-{enrolment.id}",
            enrolment.planned_end_date,
            f"Planned end of the apprenticeship: {name}",
            _about(enrolment, "The planned end date."),
            ("home.enrolment", page),
        )
    )
    return events


def _about(enrolment: Enrolment, text: str) -> str:
    version = enrolment.standard_version
    return f"{enrolment.apprentice.name}, {version.reference} {version.title}. {text}"
