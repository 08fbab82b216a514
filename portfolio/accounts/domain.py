"""Creating and managing organisations and users."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session
from zxcvbn import zxcvbn

from ..auth import links, throttle
from ..core import audit, sign_in_sessions
from ..core.domain import DomainError
from ..core.text import clean_line
from ..models import Organisation, OrganisationKind, Role, TokenPurpose, User

MINIMUM_PASSWORD_LENGTH = 10
MAXIMUM_PASSWORD_LENGTH = 200
# zxcvbn's score: 3 means at least 10^8 guesses with its lists of common passwords, words and names.
MINIMUM_PASSWORD_SCORE = 3
# The service's own words, which people build passwords from (NIST SP 800-63B's context-specific words).
SERVICE_WORDS = ("apprenticeship", "apprentice", "portfolio", "competency")
# zxcvbn refuses longer input; past this a password's strength is in its length anyway.
_ZXCVBN_MAX_LENGTH = 72
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
    password: str | None,
    by: User | None = None,
) -> User:
    """A new account. With no `password` nobody can sign in to it until one is set: see
    auth.invitations.invite_new_user, which emails the person a link to set their own."""
    email = normalise_email(email)
    if email_in_use(session, email):
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
    user = User(email=email, name=name, role=role, organisation=organisation)
    if password is None:
        user.set_unusable_password()
    else:
        check_password_strength(password, email=email, name=name)
        user.set_password(password)
    session.add(user)
    after = audit.values(user, "email", "name", "role") | {"organisation": organisation.name}
    audit.record_change("user.created", user, actor=by, after=after)
    return user


def email_in_use(session: Session, email: str) -> bool:
    """Whether an account has this (normalised) email address."""
    return session.scalar(select(User.id).where(User.email == email)) is not None


def normalise_email(email: str) -> str:
    email = clean_line(email).lower()
    if not _EMAIL.fullmatch(email) or len(email) > 254:
        raise DomainError("Enter an email address in the correct format, like name@example.com", "email")
    return email


def check_password_strength(password: str, *, email: str = "", name: str = "") -> None:
    """Refuse passwords that are short, common, repetitive or sequential, or made of the person's
    email, name or the service's words, as NIST SP 800-63B asks; no rule about kinds of character."""
    if len(password) < MINIMUM_PASSWORD_LENGTH:
        raise DomainError(f"The password must be at least {MINIMUM_PASSWORD_LENGTH} characters long", "password")
    if len(password) > MAXIMUM_PASSWORD_LENGTH:
        raise DomainError(f"The password must be {MAXIMUM_PASSWORD_LENGTH} characters or fewer", "password")
    personal = "The password must not be made from the account's name or email address, or the name of this service"
    squashed = _squash(password)
    for value in map(_squash, (email, email.partition("@")[0], name)):
        # Case, dots and spaces aside ("Priya.Natarajan!" is Priya Natarajan's name), a password that
        # is the value or little more; zxcvbn below weighs the value as a part of a longer one.
        if len(value) >= 4 and (squashed in value or (value in squashed and len(squashed) - len(value) < 4)):
            raise DomainError(personal, "password")
    result = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=_context_words(email, name))
    if result["score"] >= MINIMUM_PASSWORD_SCORE:
        return
    if any(match.get("dictionary_name") == "user_inputs" for match in result["sequence"]):
        raise DomainError(personal, "password")
    warning = result["feedback"]["warning"]
    raise DomainError(
        "The password is too easy to guess"
        + (f": {warning.rstrip('.').lower()}" if warning else "")
        + ". A few unrelated words make a strong password.",
        "password",
    )


def _squash(text: str) -> str:
    return "".join(character for character in text.casefold() if character.isalnum())


def _context_words(email: str, name: str) -> list[str]:
    local_part = email.partition("@")[0]
    whole = [email, local_part, name]
    words = [*whole, *map(_squash, whole), *re.split(r"[\W_]+", f"{local_part} {name}"), *SERVICE_WORDS]
    return [word.lower() for word in words if len(word) >= 3]


def check_current_password(user: User, current: str, *, address: str) -> None:
    """Check one's own password before a change to the account, throttled as sign-ins are, from `address`.

    The attempt counts before the check: the caller commits even when this refuses."""
    session = object_session(user)
    wait = throttle.claim(session, user.email, address)
    if wait is not None:
        raise DomainError(throttle.wait_message(wait), "current_password")
    if not user.check_password(current):
        raise DomainError("Your current password is not correct", "current_password")
    throttle.succeeded(session, user.email, address)


def change_password(user: User, current: str, new: str, *, address: str) -> None:
    """Change one's own password; the check of `current` is throttled as sign-ins are, from `address`."""
    check_current_password(user, current, address=address)
    check_password_strength(new, email=user.email, name=user.name)
    replace_password(user, new)
    audit.record_change("user.password_changed", user, actor=user)  # that it changed; never the hash


def reset_password(user: User, new: str, *, by: User | None = None) -> None:
    """Set a new password without the current one: an administrator's reset, or the demo's."""
    check_password_strength(new, email=user.email, name=user.name)
    replace_password(user, new)
    audit.record_change("user.password_reset", user, actor=by)


def replace_password(user: User, password: str) -> None:
    """Set a password the caller has checked. It ends every session of the account (the caller may
    start one for this browser) and every unused link emailed to set a password: a link sent to an
    inbox someone else reads stops working once the owner has chosen a password."""
    session = object_session(user)
    user.set_password(password)
    sign_in_sessions.end_all(session, user)
    links.cancel(session, user, TokenPurpose.RESET_PASSWORD, TokenPurpose.INVITATION)


def set_active(user: User, active: bool, *, by: User | None = None) -> None:
    """Deactivate or reactivate an account; `by` is the administrator doing it, if any."""
    if not active and by is not None and by.id == user.id:
        # An administrator who deactivated themselves would be locked out at once.
        raise DomainError("You cannot deactivate your own account; ask another administrator")
    if user.active != active:
        user.active = active
        if not active:
            sign_in_sessions.end_all(object_session(user), user)  # a deactivated user's sessions end at once
        action = "user.reactivated" if active else "user.deactivated"
        audit.record_change(action, user, actor=by, before={"active": not active}, after={"active": active})
