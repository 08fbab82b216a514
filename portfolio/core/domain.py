"""What every domain function shares: the error it raises when a request breaks a rule (views
show its message), the row locks that make two requests at once act one after the other, and
`attributes`, for records that take their fields from another's of the same names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ..models import Enrolment
from .text import clean_line, clean_text


def attributes(subject: Any, *names: str) -> dict[str, Any]:
    """The named attributes of `subject`, by name."""
    return {name: getattr(subject, name) for name in names}


class DomainError(ValueError):
    """A rule was broken; `message` is written for the user, `field` names the form field if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def required_text(value: str, *, maximum: int, missing: str, called: str, field: str, one_line: bool = False) -> str:
    """`value` cleaned as typed text (as one line, for names and titles); DomainError on `field`
    with `missing` if nothing is left, or if it is over `maximum` characters."""
    text = clean_line(value) if one_line else clean_text(value)
    if not text:
        raise DomainError(missing, field)
    if len(text) > maximum:
        raise DomainError(f"{called} must be {maximum:,} characters or fewer", field)
    return text


class Gone(DomainError):
    """What the request acts on was deleted meanwhile, by a request that won the race."""


def lock_and_reload(session: Session, row: Any) -> None:
    """Lock `row` until commit, then read it afresh, so that of two requests deciding on it at once
    the second acts on what the first left; Gone if the first deleted it. Locked by a plain SELECT
    of its id: refreshing with FOR UPDATE would put the lock on the outer joins of its eager
    relationships, which PostgreSQL refuses."""
    session.flush()
    table = type(row).__table__
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks and ignores FOR UPDATE; it serialises writers, but a transaction
        # becomes one only at its first write, so make one that changes nothing (as audit does).
        # Plain SQL, so that no column's onupdate default (a changed-at time) fires.
        found = session.execute(text(f"UPDATE {table.name} SET id = id WHERE id = :id"), {"id": row.id}).rowcount
    else:
        # FOR NO KEY UPDATE: lockers queue up, but inserts that merely refer to the row (which take
        # FOR KEY SHARE) go on, so a request holding such a reference cannot deadlock against us.
        locked = select(table.c.id).where(table.c.id == row.id).with_for_update(key_share=True)
        found = session.execute(locked).first() is not None
    if not found:
        raise Gone("This has already been deleted")
    session.refresh(row)


def lock_enrolment_for_change(session: Session, enrolment: Enrolment, *rows: Any) -> None:
    """Lock the enrolment, then `rows` of it, and read them afresh: every change to what the gateway
    checks or the portfolio's fingerprint covers starts here, so it runs wholly before or wholly
    after a gateway submission (which takes the same lock) and re-checks the status it sees.

    The enrolment comes first, before any other row: the totals' flush hook and the audit chain
    lock after it, so two changes of one enrolment queue up rather than deadlock."""
    lock_and_reload(session, enrolment)
    for row in rows:
        lock_and_reload(session, row)


def lock_enrolment_for(
    session: Session, enrolment: Enrolment, user: Any, may: Callable[[Any, Enrolment], bool], refusal: str
) -> None:
    """Lock the enrolment for a change (see `lock_enrolment_for_change`), then raise `refusal` unless
    `may(user, enrolment)`: read under the lock, the rule sees the status the change will meet."""
    lock_enrolment_for_change(session, enrolment)
    if not may(user, enrolment):
        raise DomainError(refusal)
