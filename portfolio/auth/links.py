"""Single-use links emailed about an account: a password reset, an invitation, an email change.

A link carries a random token; only the token's SHA-256 is stored (AccountToken). A link works
once, until it expires. Using one locks the account's row and then the link's, so that of two uses
at once the second sees the first's and is refused, and two links of one account used at once
queue up rather than deadlock. Each link sent, used or refused is on the audit trail, the token
never. Links asked for by email address or by a signed-in person are counted per account and per
network address (LinkRequest), so that nobody can make the service flood a mailbox.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.orm import Session, object_session

from ..core import audit
from ..core.domain import DomainError, lock_and_reload
from ..core.wording import duration_text
from ..models import AccountToken, LinkRequest, TokenPurpose, User
from ..models.types import utcnow
from ..notifications.mail import link_to
from . import throttle

# Where each kind of link leads (the views' routes), followed by the token.
PATHS = {
    TokenPurpose.RESET_PASSWORD: "/reset-password/",
    TokenPurpose.INVITATION: "/accept-invitation/",
    TokenPurpose.EMAIL_CHANGE: "/confirm-email/",
}
_LIFETIME_SETTINGS = {
    TokenPurpose.RESET_PASSWORD: ("PASSWORD_RESET_MINUTES", "minutes"),
    TokenPurpose.INVITATION: ("INVITATION_DAYS", "days"),
    TokenPurpose.EMAIL_CHANGE: ("EMAIL_CHANGE_HOURS", "hours"),
}
# secrets.token_urlsafe(32) makes 43 characters; anything much longer is not one of ours.
_LONGEST_TOKEN = 100
# Link requests are kept this long at least, past which no limit looks at them.
REQUESTS_FORGOTTEN_AFTER = timedelta(hours=24)
_PRUNE_BATCH = 100
# Bulk changes leave loaded rows alone (as core/sign_in_sessions.py explains).
_BULK = {"synchronize_session": False}
# The first key of PostgreSQL's two-key advisory locks taken on link-request keys (arbitrary, fixed).
_REQUEST_LOCKS = 7_340_022

REFUSALS = {
    "unknown": "This link is not one we sent, or it was copied wrongly.",
    "wrong_purpose": "This link is not one we sent, or it was copied wrongly.",
    "used": "This link has already been used.",
    "expired": "This link has expired, or a newer one has been used since.",
    "inactive": "The account this link is for has been deactivated.",
}


class LinkRefused(DomainError):
    """The link cannot be used; `reason` is a key of REFUSALS."""

    def __init__(self, reason: str) -> None:
        super().__init__(REFUSALS[reason])
        self.reason = reason


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def lifetime(purpose: TokenPurpose) -> timedelta:
    setting, unit = _LIFETIME_SETTINGS[purpose]
    return timedelta(**{unit: float(current_app.config[setting])})


def lifetime_text(purpose: TokenPurpose) -> str:
    """How long a new link of `purpose` works, in words: "1 hour", "7 days"."""
    return duration_text(lifetime(purpose))


def url(purpose: TokenPurpose, token: str) -> str:
    """The link to put in the email."""
    return link_to(PATHS[purpose] + token)


def issue(
    session: Session,
    user: User,
    purpose: TokenPurpose,
    *,
    by: User | None = None,
    new_email: str | None = None,
    now: datetime | None = None,
    details: dict[str, Any] | None = None,
) -> str:
    """Make a link of `purpose` for `user` and record that it was sent; returns its token, for the email."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = AccountToken(
        user=user,
        purpose=purpose,
        token_hash=token_hash(token),
        new_email=new_email,
        created_at=now,
        expires_at=now + lifetime(purpose),
        created_by=by,
    )
    session.add(row)
    after = {"expires_at": row.expires_at.isoformat(timespec="seconds"), **(details or {})}
    if new_email:
        after["new_email"] = new_email
    _record(session, row, "sent", actor=by, after=after)
    return token


def open_link(
    session: Session, token: str, purpose: TokenPurpose, *, lock: bool = False, now: datetime | None = None
) -> AccountToken:
    """The link of this token, if it may still be used for `purpose`; else LinkRefused, recorded on
    the trail when the link is ours. `lock` (to use it) locks the account and then the link until
    commit, and reads both afresh."""
    now = now or utcnow()
    too_long = len(token) > _LONGEST_TOKEN
    row = None if too_long else session.scalar(select(AccountToken).where(AccountToken.token_hash == token_hash(token)))
    if row is None:
        raise LinkRefused("unknown")
    if lock:
        lock_and_reload(session, row.user)
        lock_and_reload(session, row)
    if row.purpose is not purpose:
        reason = "wrong_purpose"
    elif row.used_at is not None:
        reason = "used"
    elif row.expired(now):
        reason = "expired"
    elif not row.user.active:
        reason = "inactive"
    else:
        return row
    after = {"reason": reason} | ({"used_for": purpose.value} if reason == "wrong_purpose" else {})
    _record(session, row, "refused", actor=None, after=after)
    raise LinkRefused(reason)


def spend(
    row: AccountToken,
    *,
    now: datetime | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Mark a link opened with `lock` used, recording what using it changed."""
    row.used_at = now or utcnow()
    session = object_session(row)
    assert session is not None, "a link is used in the session that opened it"
    _record(session, row, "used", actor=row.user, before=before, after=after)


def cancel(session: Session, user: User, *purposes: TokenPurpose, now: datetime | None = None) -> None:
    """End `user`'s links of these purposes that are still unused: they expire now."""
    now = now or utcnow()
    session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose.in_(purposes),
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
        .values(expires_at=now),
        execution_options=_BULK,
    )


def _record(
    session: Session,
    row: AccountToken,
    what: str,
    *,
    actor: User | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        f"user.{row.purpose.value}_link_{what}",
        actor=actor,
        subject_type="user",
        subject_id=row.user.id,
        before=before,
        after=after,
    )


# Limits on links asked for


def claim_request(
    session: Session, email: str, address: str, *, user: User | None, now: datetime | None = None
) -> LinkRequest:
    """Count a link asked for to the account of `email` (whether or not there is one) from `address`.

    The request is written whatever the outcome, the same way, and is `allowed` if fewer than
    EMAILED_LINKS_PER_ACCOUNT were allowed for the account and fewer than EMAILED_LINKS_PER_ADDRESS
    for the address in the window. Counted under a lock per key until commit, so that of many
    requests at once no more are allowed than the limits say.
    """
    now = now or utcnow()
    config = current_app.config
    account, place = throttle.account_key(email), throttle.address_key(address)
    request = LinkRequest(
        account_key=account, address_key=place, user_id=user.id if user else None, requested_at=now, allowed=False
    )
    session.add(request)
    session.flush()  # on SQLite, the first write takes the database's write lock: the counts are serialised
    if session.get_bind().dialect.name == "postgresql":
        for key in (place, account):  # always the address first, so two requests never wait for each other
            session.execute(
                text("SELECT pg_advisory_xact_lock(:space, :key)"),
                {"space": _REQUEST_LOCKS, "key": int(key[:8], 16) - 2**31},
            )
    window = timedelta(minutes=float(config["EMAILED_LINKS_WINDOW_MINUTES"]))
    for_account, for_address = session.execute(
        select(
            func.count().filter(LinkRequest.account_key == account),
            func.count().filter(LinkRequest.address_key == place),
        ).where(
            LinkRequest.allowed.is_(True),
            LinkRequest.requested_at > now - window,
            or_(LinkRequest.account_key == account, LinkRequest.address_key == place),
        )
    ).one()
    request.allowed = for_account < int(config["EMAILED_LINKS_PER_ACCOUNT"]) and for_address < int(
        config["EMAILED_LINKS_PER_ADDRESS"]
    )
    _prune(session, now - max(window, REQUESTS_FORGOTTEN_AFTER))
    return request


def _prune(session: Session, before: datetime) -> None:
    """Forget old requests a batch at a time, skipping rows other transactions hold."""
    stale = (
        select(LinkRequest.id)
        .where(LinkRequest.requested_at <= before)
        .limit(_PRUNE_BATCH)
        .with_for_update(skip_locked=True)
    )
    session.execute(
        delete(LinkRequest).where(LinkRequest.id.in_(stale)), execution_options={"synchronize_session": False}
    )
