"""Organisations, users, their sign-in sessions and the sign-in throttle."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .types import UTCDateTime, enum_column, utcnow

# Starts the hash of an account with no password yet (invited, not yet accepted): no password
# matches it, as werkzeug reads no method from it.
UNUSABLE_PASSWORD_PREFIX = "!"


class OrganisationKind(enum.Enum):
    EMPLOYER = "employer"
    PROVIDER = "provider"
    EPAO = "epao"

    @property
    def label(self) -> str:
        return {"employer": "Employer", "provider": "Training provider", "epao": "Assessment organisation (EPAO)"}[
            self.value
        ]


class Role(enum.Enum):
    APPRENTICE = "apprentice"
    EMPLOYER = "employer"
    TUTOR = "tutor"
    ASSESSOR = "assessor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {
            "apprentice": "Apprentice",
            "employer": "Employer (line manager or mentor)",
            "tutor": "Tutor",
            "assessor": "Assessor (assessment organisation)",
            "admin": "Administrator",
        }[self.value]

    @property
    def organisation_kind(self) -> OrganisationKind:
        """The kind of organisation a user of this role belongs to."""
        return {
            "apprentice": OrganisationKind.EMPLOYER,
            "employer": OrganisationKind.EMPLOYER,
            "tutor": OrganisationKind.PROVIDER,
            "assessor": OrganisationKind.EPAO,
            "admin": OrganisationKind.PROVIDER,
        }[self.value]


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")

    def __repr__(self) -> str:
        return f"<Organisation {self.name!r} ({self.kind.value})>"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="users", lazy="joined")

    def set_password(self, password: str) -> None:
        # Tests lower the cost through PASSWORD_HASH_METHOD; production keeps werkzeug's scrypt default.
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def set_unusable_password(self) -> None:
        """No password signs in to the account until one is set (by an invitation's link)."""
        self.password_hash = UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(16)

    @property
    def has_usable_password(self) -> bool:
        return not self.password_hash.startswith(UNUSABLE_PASSWORD_PREFIX)

    def check_password(self, password: str) -> bool:
        return self.has_usable_password and check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return self.active

    # The token of the sign-in session this request runs in, set by portfolio.sign_in_sessions:
    # Flask-Login keeps get_id() in the cookie, so the cookie names the session, never the user.
    sign_in_token = None
    # How many notifications they have not read, loaded with their session for the header.
    unread_notifications = 0

    def get_id(self) -> str | None:
        return self.sign_in_token

    def __repr__(self) -> str:
        return f"<User {self.email} ({self.role.value})>"


class SignInSession(db.Model):
    """One browser's signed-in session: valid while not ended, recently used and young enough."""

    __tablename__ = "sign_in_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the random token in the cookie: a copy of this table opens no session.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class SignInThrottle(db.Model):
    """Failed password checks against one key: an account, or a network address.

    The key is a keyed hash (HMAC with the secret key) of the normalised email address or the
    network address, so what someone typed into the email box is never stored.
    """

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # No password is checked for this key before then.
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInAddressAccount(db.Model):
    """An account with a failed sign-in from an address, for the limit on accounts tried per address."""

    __tablename__ = "sign_in_address_accounts"

    address_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tried_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
