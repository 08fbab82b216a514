"""Throttling of failed sign-ins, per account and per network address."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..models import SignInAttempt
from ..models.types import utcnow


def too_many_failures(session: Session, email: str, address: str) -> bool:
    """Whether recent failures for this email or this address have reached the limit.

    Counts failures for any email, existing or not, so the answer says nothing about
    which accounts exist.
    """
    config = current_app.config
    since = utcnow() - timedelta(minutes=config["SIGN_IN_WINDOW_MINUTES"])
    recent = (SignInAttempt.attempted_at >= since) & SignInAttempt.succeeded.is_(False)
    by_email, by_address = session.execute(
        select(
            func.count().filter(SignInAttempt.email == email),
            func.count().filter(SignInAttempt.address == address),
        ).where(recent, or_(SignInAttempt.email == email, SignInAttempt.address == address))
    ).one()
    return by_email >= config["SIGN_IN_ATTEMPTS_PER_ACCOUNT"] or by_address >= config["SIGN_IN_ATTEMPTS_PER_ADDRESS"]


def record_attempt(session: Session, email: str, address: str, succeeded: bool) -> None:
    session.add(SignInAttempt(email=email[:254], address=address[:64], succeeded=succeeded))
