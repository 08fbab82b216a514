"""Resetting a forgotten password by a link emailed to the account's address.

Whoever asks gets the same answer, whether or not an account uses the address, and the request
does the same work either way: it looks the address up, counts the request (auth.links) and defers
one job. The job, after the answer has gone, decides whether to send a link: only to an active
account, within the limits per account and per network address. So neither the page nor the time
it takes tells anyone which addresses have accounts.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from ..accounts.domain import check_password_strength, normalise_email, replace_password
from ..core import jobs
from ..core.domain import lock_and_reload
from ..models import LinkRequest, TokenPurpose, User
from ..models.types import utcnow
from ..notifications.mail import queue_email
from . import links, throttle
from .queries import user_with_email

logger = logging.getLogger(__name__)

SEND_JOB = "auth.send_password_reset"


def ask_for_password_reset(session: Session, email: str, address: str, *, now: datetime | None = None) -> None:
    """Someone, signed in or not, asks from `address` for a link to reset the password of `email`'s account."""
    email = normalise_email(email)
    user = user_with_email(session, email)
    request = links.claim_request(session, email, address, user=user, now=now)
    jobs.queue().defer(session, SEND_JOB, {"request_id": request.id, "address": address})


def send_reset_link(session: Session, request_id: int, address: str, *, now: datetime | None = None) -> None:
    """The job's work: email the link a request asked for, if it may have one. Safe to run twice."""
    now = now or utcnow()
    request = session.get(LinkRequest, request_id)
    if request is None:
        return  # forgotten long ago: a link sent now would come too late to be wanted
    lock_and_reload(session, request)
    if request.handled_at is not None:
        return
    request.handled_at = now
    user = request.user
    # The account's address may have changed since it was asked for: a link goes to the address typed, or nowhere.
    if not (request.allowed and user is not None and user.active and _still_at(user, request)):
        if not request.allowed:
            logger.warning("Password reset request %s refused: too many links asked for", request.id)
        return
    token = links.issue(session, user, TokenPurpose.RESET_PASSWORD, now=now, details={"address": address})
    queue_email(
        session,
        user.email,
        "Reset your password",
        "password_reset",
        user=user,
        holds_secret=True,
        link=links.url(TokenPurpose.RESET_PASSWORD, token),
        lasts=links.lifetime_text(TokenPurpose.RESET_PASSWORD),
    )


def _still_at(user: User, request: LinkRequest) -> bool:
    return throttle.account_key(user.email) == request.account_key


def reset_password_with_link(session: Session, token: str, new: str, *, now: datetime | None = None) -> User:
    """Set a new password with a reset link: once, and it ends every session of the account and
    every other reset link of it (accounts.domain.replace_password)."""
    row = links.open_link(session, token, TokenPurpose.RESET_PASSWORD, lock=True, now=now)
    user = row.user
    check_password_strength(new, email=user.email, name=user.name)
    links.spend(row, now=now)
    replace_password(user, new)
    return user
