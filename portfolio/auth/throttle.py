"""Throttling of password checks: growing delays per account, a limit on accounts tried per address.

Nobody is locked out. After SIGN_IN_ATTEMPTS_PER_ACCOUNT failures in a row, each further attempt
on that account must wait a delay that doubles from SIGN_IN_FIRST_DELAY_SECONDS up to
SIGN_IN_MAX_DELAY_MINUTES, during which no password is checked; a success starts afresh. An address
may fail on at most SIGN_IN_ACCOUNTS_PER_ADDRESS distinct accounts in SIGN_IN_WINDOW_MINUTES, so
one person mistyping behind a college's shared address stops nobody else.

An attempt is counted before its password is checked, under the address's and the account's row
locks, so of many simultaneous attempts only as many are checked as the limits allow. Keys are
keyed hashes: what someone typed into the email box is never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import SignInAddressAccount, SignInThrottle
from ..models.types import as_utc, utcnow

# Failures are forgotten a day after the last one, so a delay grown a week ago does not linger.
FAILURES_FORGOTTEN_AFTER = timedelta(hours=24)
_PRUNE_BATCH = 100


def account_key(email: str) -> str:
    return _keyed_hash("account", email.strip().lower())


def address_key(address: str) -> str:
    return _keyed_hash("address", address)


def _keyed_hash(kind: str, value: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"sign-in-throttle\0{kind}\0{value}".encode(), hashlib.sha256).hexdigest()


def delay_after(failures: int) -> timedelta | None:
    """How long to wait after `failures` failures in a row: None while they are within the free attempts."""
    config = current_app.config
    beyond = failures - int(config["SIGN_IN_ATTEMPTS_PER_ACCOUNT"])
    if beyond < 0:
        return None
    cap = timedelta(minutes=float(config["SIGN_IN_MAX_DELAY_MINUTES"])).total_seconds()
    seconds = float(config["SIGN_IN_FIRST_DELAY_SECONDS"]) * 2 ** min(beyond, 30)
    return timedelta(seconds=min(seconds, cap))


def claim(session: Session, email: str, address: str, *, now: datetime | None = None) -> timedelta | None:
    """Count an attempt on the account with this email from this address, before its password is checked.

    Returns None if the password may be checked (the attempt already counts as a failure until
    `succeeded` says otherwise), or how long to wait if not. The row locks last until commit: check
    the password and record the outcome in the same transaction.
    """
    now = now or utcnow()
    config = current_app.config
    account, place = account_key(email), address_key(address)
    window = timedelta(minutes=float(config["SIGN_IN_WINDOW_MINUTES"]))
    # Always the address before the account, so two transactions never wait for each other.
    # Writing first also makes SQLite take its write lock here, serialising the claims.
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(SignInThrottle).values([{"key": place}, {"key": account}]).on_conflict_do_nothing())
    session.execute(update(SignInThrottle).where(SignInThrottle.key == place).values(last_failure_at=now))

    tried = dict(
        session.execute(
            select(SignInAddressAccount.account_key, SignInAddressAccount.tried_at).where(
                SignInAddressAccount.address_key == place, SignInAddressAccount.tried_at > now - window
            )
        ).all()
    )
    if account not in tried and len(tried) >= int(config["SIGN_IN_ACCOUNTS_PER_ADDRESS"]):
        return _at_least_a_second(as_utc(min(tried.values())) + window - now)

    failures = session.scalar(
        update(SignInThrottle)
        .where(
            SignInThrottle.key == account,
            (SignInThrottle.not_before.is_(None)) | (SignInThrottle.not_before <= now),
        )
        .values(
            failures=case(
                (SignInThrottle.last_failure_at <= now - FAILURES_FORGOTTEN_AFTER, 1),
                else_=SignInThrottle.failures + 1,
            ),
            last_failure_at=now,
        )
        .returning(SignInThrottle.failures)
    )
    if failures is None:  # still waiting: the password is not even checked
        not_before = session.scalar(select(SignInThrottle.not_before).where(SignInThrottle.key == account))
        return _at_least_a_second(as_utc(not_before) - now)
    delay = delay_after(failures)
    if delay is not None:
        session.execute(update(SignInThrottle).where(SignInThrottle.key == account).values(not_before=now + delay))
    session.execute(
        insert(SignInAddressAccount)
        .values(address_key=place, account_key=account, tried_at=now)
        .on_conflict_do_update(index_elements=["address_key", "account_key"], set_={"tried_at": now})
    )
    _prune(session, now - max(window, FAILURES_FORGOTTEN_AFTER), now - window)
    return None


def succeeded(session: Session, email: str, address: str) -> None:
    """The password was right: the account's failures and its place in the address's count go."""
    account = account_key(email)
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == account))
    session.execute(
        delete(SignInAddressAccount).where(
            SignInAddressAccount.address_key == address_key(address), SignInAddressAccount.account_key == account
        )
    )


def wait_message(wait: timedelta) -> str:
    return f"Too many failed attempts to sign in. Wait {describe_wait(wait)}, then try again."


def describe_wait(wait: timedelta) -> str:
    seconds = math.ceil(wait.total_seconds())
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _at_least_a_second(wait: timedelta) -> timedelta:
    return max(wait, timedelta(seconds=1))


def _prune(session: Session, throttles_before: datetime, pairs_before: datetime) -> None:
    """Forget stale rows a batch at a time, skipping rows other attempts hold (never waiting on them)."""
    stale_throttles = (
        select(SignInThrottle.key)
        .where(SignInThrottle.last_failure_at <= throttles_before)
        .limit(_PRUNE_BATCH)
        .with_for_update(skip_locked=True)
    )
    session.execute(delete(SignInThrottle).where(SignInThrottle.key.in_(stale_throttles)))
    stale_pairs = (
        select(SignInAddressAccount.address_key, SignInAddressAccount.account_key)
        .where(SignInAddressAccount.tried_at <= pairs_before)
        .limit(_PRUNE_BATCH)
        .with_for_update(skip_locked=True)
    )
    pair = tuple_(SignInAddressAccount.address_key, SignInAddressAccount.account_key)
    session.execute(delete(SignInAddressAccount).where(pair.in_(stale_pairs)))
