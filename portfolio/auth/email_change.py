"""Changing one's own email address, confirmed by a link sent to the new address.

The old address is told a change was asked for (with no link), so that an owner whose session
someone else used hears of it; the address changes only when the link is followed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from ..accounts.domain import check_current_password, email_in_use, normalise_email
from ..core.domain import DomainError
from ..models import AccountToken, TokenPurpose, User
from ..models.types import utcnow
from ..notifications.mail import queue_email
from . import links

EMAIL_CHANGE = TokenPurpose.EMAIL_CHANGE
TOO_MANY = "You have asked for too many emails in the last hour. Wait an hour, then try again."


def ask_to_change_email(
    user: User, new_email: str, current_password: str, *, address: str, now: datetime | None = None
) -> str:
    """Send a confirmation link to `new_email` and a notice to the current address; returns the new
    address as stored. The password check counts in the sign-in throttle: commit even on a refusal."""
    now = now or utcnow()
    session = object_session(user)
    assert session is not None
    check_current_password(user, current_password, address=address)
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise DomainError("That is already your email address", "email")
    if email_in_use(session, new_email):
        raise DomainError(f"There is already an account for {new_email}", "email")
    request = links.claim_request(session, user.email, address, user=user, now=now)
    request.handled_at = now
    if not request.allowed:
        raise DomainError(TOO_MANY, "email")
    links.cancel(session, user, EMAIL_CHANGE, now=now)  # only the newest address asked for can be confirmed
    token = links.issue(session, user, EMAIL_CHANGE, by=user, new_email=new_email, now=now)
    lasts = links.lifetime_text(EMAIL_CHANGE)
    queue_email(
        session,
        new_email,
        "Confirm your new email address",
        "email_change_confirm",
        user=user,
        holds_secret=True,
        link=links.url(EMAIL_CHANGE, token),
        lasts=lasts,
    )
    queue_email(
        session,
        user.email,
        "A change of your email address was asked for",
        "email_change_notice",
        user=user,
        new_email=new_email,
        lasts=lasts,
    )
    return new_email


def confirm_email_change(session: Session, token: str, *, now: datetime | None = None) -> User:
    """Follow the link sent to the new address: the account takes that address, if no other has meanwhile.

    Reset links sent to the old address stop working, as do other changes asked for."""
    row = links.open_link(session, token, EMAIL_CHANGE, lock=True, now=now)
    user, new_email = row.user, row.new_email
    assert new_email is not None, "an email change link names its address"
    if email_in_use(session, new_email):
        raise DomainError(
            f"Another account now uses {new_email}, so your email address has not changed. "
            "Sign in and ask for the change again with another address."
        )
    links.spend(row, now=now, before={"email": user.email}, after={"email": new_email})
    user.email = new_email
    links.cancel(session, user, TokenPurpose.RESET_PASSWORD, EMAIL_CHANGE, now=now)
    return user


def pending_email_change(session: Session, user: User, *, now: datetime | None = None) -> AccountToken | None:
    """The change of address `user` asked for and has not confirmed yet, if its link still works."""
    return session.scalar(
        select(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == EMAIL_CHANGE,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > (now or utcnow()),
        )
        .order_by(AccountToken.id.desc())
        .limit(1)
    )
