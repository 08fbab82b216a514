"""The account signing in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import User


def user_with_email(session: Session, email: str) -> User | None:
    """The account of `email`, given as accounts stores it (cleaned, lower case)."""
    return session.scalar(select(User).where(User.email == email))
