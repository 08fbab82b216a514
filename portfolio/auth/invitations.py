"""Invitations: an administrator creates an account without a password, and the person sets their own
by a link emailed to them. Until then nobody can sign in to the account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from ..accounts.domain import check_password_strength, create_user, replace_password
from ..core.domain import DomainError
from ..models import AccountToken, Organisation, Role, TokenPurpose, User
from ..notifications.mail import queue_email
from . import links

INVITATION = TokenPurpose.INVITATION


def invite_new_user(
    session: Session, *, email: str, name: str, role: Role, organisation: Organisation, by: User | None
) -> User:
    """Create an account with no password and email its person an invitation to set one."""
    user = create_user(session, email=email, name=name, role=role, organisation=organisation, password=None, by=by)
    send_invitation(user, by=by)
    return user


def send_invitation(user: User, *, by: User | None, now: datetime | None = None) -> None:
    """Email `user` a new invitation; any earlier one stops working."""
    if user.has_usable_password:
        raise DomainError(f"{user.name} has already set a password, so there is nothing to invite them to")
    if not user.active:
        raise DomainError("The account is deactivated: reactivate it before sending an invitation")
    session = object_session(user)
    assert session is not None
    links.cancel(session, user, INVITATION, now=now)
    token = links.issue(session, user, INVITATION, by=by, now=now)
    queue_email(
        session,
        user.email,
        "You are invited to the apprenticeship portfolio",
        "invitation",
        user=user,
        holds_secret=True,
        link=links.url(INVITATION, token),
        lasts=links.lifetime_text(INVITATION),
    )


def accept_invitation(session: Session, token: str, password: str, *, now: datetime | None = None) -> User:
    """Set the invited person's own password with their link (once); the caller signs them in."""
    row = links.open_link(session, token, INVITATION, lock=True, now=now)
    user = row.user
    check_password_strength(password, email=user.email, name=user.name)
    links.spend(row, now=now)
    replace_password(user, password)
    return user


def latest_invitation(session: Session, user: User) -> AccountToken | None:
    """The newest invitation of an account that has no password yet (None once it has one)."""
    if user.has_usable_password:
        return None
    return session.scalar(
        select(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == INVITATION)
        .order_by(AccountToken.created_at.desc(), AccountToken.id.desc())
        .limit(1)
    )
