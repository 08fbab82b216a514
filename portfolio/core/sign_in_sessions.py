"""Server-side sign-in sessions: the cookie carries a random token, a row says whether it is valid.

A session is valid while its row is not ended, was used within the idle timeout and was created
within the absolute lifetime. Signing out ends the row, so a copied cookie opens nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ..models import Notification, SignInSession, User
from ..models.types import as_utc, utcnow

# Bulk updates leave loaded rows alone: SQLite gives back times without their zone, which
# SQLAlchemy's in-Python evaluation of the WHERE clause cannot compare with aware ones.
_BULK = {"synchronize_session": False}
# Last-seen is written at most this often per session: not a write on every request.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
_PRUNE_BATCH = 100


def token_hash(token: str) -> str:
    """What is stored of a secret token (here and for calendar links): its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, user: User, *, now: datetime | None = None) -> str:
    """Open a session for `user`; returns the token for the cookie (set on `user` for Flask-Login)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(SignInSession(token_hash=token_hash(token), user=user, created_at=now, last_seen_at=now))
    user.sign_in_token = token
    return token


def load(
    session: Session, token: str, *, idle: timedelta, lifetime: timedelta, now: datetime | None = None
) -> SignInSession | None:
    """The valid session with this token, or None. Its user must be active."""
    now = now or utcnow()
    # The header's count of unread notifications comes with the session, not in a query of its own.
    unread = (
        select(func.count(Notification.id))
        .where(Notification.user_id == SignInSession.user_id, Notification.read_at.is_(None))
        .scalar_subquery()
    )
    found = session.execute(
        select(SignInSession, unread).where(
            SignInSession.token_hash == token_hash(token),
            SignInSession.ended_at.is_(None),
            SignInSession.last_seen_at > now - idle,
            SignInSession.created_at > now - lifetime,
        )
    ).first()
    if found is None or not found[0].user.active:
        return None
    row, row.user.unread_notifications = found
    row.user.sign_in_token = token
    return row


def needs_touch(row: SignInSession, *, now: datetime | None = None) -> bool:
    return (now or utcnow()) - as_utc(row.last_seen_at) >= LAST_SEEN_RESOLUTION


def touch(session: Session, row: SignInSession, *, now: datetime | None = None) -> None:
    """Record that the session was used now (the idle timeout counts from here)."""
    session.execute(
        update(SignInSession).where(SignInSession.id == row.id).values(last_seen_at=now or utcnow()),
        execution_options=_BULK,
    )


def end(session: Session, token: str, *, now: datetime | None = None) -> None:
    """End the session with this token (signing out)."""
    session.execute(
        update(SignInSession)
        .where(SignInSession.token_hash == token_hash(token), SignInSession.ended_at.is_(None))
        .values(ended_at=now or utcnow()),
        execution_options=_BULK,
    )


def end_all(session: Session, user: User, *, now: datetime | None = None) -> None:
    """End every open session of `user`: after a password change or reset, or deactivation."""
    session.execute(
        update(SignInSession)
        .where(SignInSession.user_id == user.id, SignInSession.ended_at.is_(None))
        .values(ended_at=now or utcnow()),
        execution_options=_BULK,
    )
    user.sign_in_token = None


def prune(session: Session, *, lifetime: timedelta, now: datetime | None = None) -> None:
    """Delete sessions past their absolute lifetime: ended or not, they can never be valid again.
    Rows another transaction holds are skipped, never waited for (it may be waiting for us)."""
    expired = (
        select(SignInSession.id)
        .where(SignInSession.created_at <= (now or utcnow()) - lifetime)
        .limit(_PRUNE_BATCH)
        .with_for_update(skip_locked=True)
    )
    session.execute(delete(SignInSession).where(SignInSession.id.in_(expired)), execution_options=_BULK)
