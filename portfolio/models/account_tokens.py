"""Single-use links emailed to people about their account, and the count of links asked for."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .types import UTCDateTime, as_utc, enum_column, utcnow


class TokenPurpose(enum.Enum):
    RESET_PASSWORD = "reset_password"
    INVITATION = "invitation"
    EMAIL_CHANGE = "email_change"

    @property
    def label(self) -> str:
        return {
            "reset_password": "Password reset",
            "invitation": "Invitation",
            "email_change": "Email address change",
        }[self.value]


class AccountToken(db.Model):
    """One emailed link: what it lets its holder do to one account, until when, and whether it was used.

    Only the SHA-256 of the link's random token is kept, so a copy of this table opens nothing. A
    link that is cancelled (a newer one was used, the password changed) has its expiry brought forward.
    """

    __tablename__ = "account_tokens"
    __table_args__ = (Index("ix_account_tokens_user_id_purpose", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    purpose: Mapped[TokenPurpose] = mapped_column(enum_column(TokenPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    new_email: Mapped[str | None] = mapped_column(String(254))  # the address an email change confirms
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # an administrator inviting

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined", innerjoin=True)
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    def expired(self, now: datetime) -> bool:
        return as_utc(self.expires_at) <= now


class LinkRequest(db.Model):
    """A link asked for by email address (a password reset) or by a signed-in person (an email change),
    counted against the limits per account and per network address.

    Keys are the sign-in throttle's keyed hashes, so what was typed is never stored. `user_id` is the
    account the address belonged to when asked, if any; `allowed` says whether the limits let it go.
    """

    __tablename__ = "link_requests"
    __table_args__ = (
        Index("ix_link_requests_account_key_requested_at", "account_key", "requested_at"),
        Index("ix_link_requests_address_key_requested_at", "address_key", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64))
    address_key: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    allowed: Mapped[bool] = mapped_column(default=False)
    # When the job that sends a reset link took it: a job run twice sends once.
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User | None] = relationship()
