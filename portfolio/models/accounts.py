"""Organisations, users and sign-in attempts."""

from __future__ import annotations

import enum
from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .types import UTCDateTime, enum_column, utcnow


class OrganisationKind(enum.Enum):
    EMPLOYER = "employer"
    PROVIDER = "provider"
    EPAO = "epao"

    @property
    def label(self) -> str:
        return {"employer": "Employer", "provider": "Training provider", "epao": "End-point assessment organisation"}[
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
            "assessor": "End-point assessor",
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
    # Bumped when the password changes or the account is deactivated: old sessions end.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="users", lazy="joined")

    def set_password(self, password: str) -> None:
        # Tests lower the cost through PASSWORD_HASH_METHOD; production keeps werkzeug's scrypt default.
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.email} ({self.role.value})>"


class SignInAttempt(db.Model):
    """A failed or successful sign-in, kept for throttling."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_email_at", "email", "attempted_at"),
        Index("ix_sign_in_attempts_address_at", "address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool]
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
