"""What every domain function shares: the error it raises when a request breaks a rule (views
show its message), and the row lock that makes two requests at once act one after the other."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session


class DomainError(ValueError):
    """A rule was broken; `message` is written for the user, `field` names the form field if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def lock_and_reload(session: Session, row: Any) -> None:
    """Lock `row` until commit, then read it afresh, so that of two requests deciding on it at once
    the second acts on what the first left. Locked by a plain SELECT of its id: refreshing with FOR
    UPDATE would put the lock on the outer joins of its eager relationships, which PostgreSQL refuses."""
    session.flush()
    model = type(row)
    session.execute(select(model.id).where(model.id == row.id).with_for_update())
    session.refresh(row)
