"""Creating and managing organisations and users."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit
from .domain import DomainError
from .models import Organisation, OrganisationKind, Role, User
from .text import clean_line

MINIMUM_PASSWORD_LENGTH = 10
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def create_organisation(session: Session, name: str, kind: OrganisationKind, *, by: User | None = None) -> Organisation:
    name = clean_line(name)
    if not name:
        raise DomainError("Enter the organisation's name", "name")
    if session.scalar(select(Organisation.id).where(func.lower(Organisation.name) == name.lower())):
        raise DomainError(f"An organisation called {name} already exists", "name")
    organisation = Organisation(name=name, kind=kind)
    session.add(organisation)
    audit.record_change(
        "organisation.created", organisation, actor=by, after=audit.values(organisation, "name", "kind")
    )
    return organisation


def rename_organisation(session: Session, organisation: Organisation, name: str, *, by: User | None = None) -> None:
    name = clean_line(name)
    clash = session.scalar(
        select(Organisation.id).where(func.lower(Organisation.name) == name.lower(), Organisation.id != organisation.id)
    )
    if not name or clash:
        raise DomainError(f"An organisation called {name} already exists" if name else "Enter a name", "name")
    before = audit.values(organisation, "name")
    organisation.name = name
    audit.record_change("organisation.renamed", organisation, actor=by, before=before, after={"name": name})


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: Role,
    organisation: Organisation,
    password: str,
    by: User | None = None,
) -> User:
    email = normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)):
        raise DomainError(f"There is already an account for {email}", "email")
    if organisation.kind is not role.organisation_kind:
        raise DomainError(
            f"A user with the role {role.label.lower()} belongs to a {role.organisation_kind.label.lower()}, "
            f"and {organisation.name} is a {organisation.kind.label.lower()}",
            "organisation",
        )
    name = clean_line(name)
    if not name:
        raise DomainError("Enter the person's full name", "name")
    check_password_strength(password)
    user = User(email=email, name=name, role=role, organisation=organisation, session_version=0)
    user.set_password(password)
    session.add(user)
    after = audit.values(user, "email", "name", "role") | {"organisation": organisation.name}
    audit.record_change("user.created", user, actor=by, after=after)
    return user


def normalise_email(email: str) -> str:
    email = clean_line(email).lower()
    if not _EMAIL.fullmatch(email) or len(email) > 254:
        raise DomainError("Enter an email address in the correct format, like name@example.com", "email")
    return email


def check_password_strength(password: str) -> None:
    if len(password) < MINIMUM_PASSWORD_LENGTH:
        raise DomainError(f"The password must be at least {MINIMUM_PASSWORD_LENGTH} characters long", "password")
    if len(password) > 200:
        raise DomainError("The password must be 200 characters or fewer", "password")


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise DomainError("Your current password is not correct", "current_password")
    check_password_strength(new)
    user.set_password(new)
    audit.record_change("user.password_changed", user, actor=user)  # that it changed; never the hash


def reset_password(user: User, new: str, *, by: User | None = None) -> None:
    """Set a new password without the current one: an administrator's reset, or the demo's."""
    check_password_strength(new)
    user.set_password(new)
    audit.record_change("user.password_reset", user, actor=by)


def set_active(user: User, active: bool, *, by: User | None = None) -> None:
    """Deactivate or reactivate an account; `by` is the administrator doing it, if any."""
    if not active and by is not None and by.id == user.id:
        # An administrator who deactivated themselves would be locked out at once.
        raise DomainError("You cannot deactivate your own account; ask another administrator")
    if user.active != active:
        user.active = active
        user.session_version += 1  # a deactivated user's sessions end at once
        action = "user.reactivated" if active else "user.deactivated"
        audit.record_change(action, user, actor=by, before={"active": not active}, after={"active": active})
