"""What the service tells people: notifications in the app, each person's choice of how they hear,
and the outbox of email waiting to be sent."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .types import UTCDateTime, enum_column, utcnow


class Delivery(enum.Enum):
    """How a person hears of one kind of notification, besides the list in the app."""

    EMAIL_NOW = "email_now"
    DAILY_DIGEST = "daily_digest"
    IN_APP = "in_app"

    @property
    def label(self) -> str:
        return {
            "email_now": "Email me straight away",
            "daily_digest": "Email me once a day, in a summary",
            "in_app": "Only show it in the service",
        }[self.value]


class Notification(db.Model):
    """One thing one person is told: what happened or what is asked of them, and where to act."""

    __tablename__ = "notifications"
    __table_args__ = (
        # A reminder is sent once per occasion ("review due, enrolment 5, on 2026-12-10"), however
        # often the job that finds it runs, on however many hosts.
        UniqueConstraint("user_id", "occasion", name="uq_notifications_user_occasion"),
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))  # a notifications.kinds.Kind value
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolments.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500))  # a path in the service, never a secret
    occasion: Mapped[str | None] = mapped_column(String(200))
    delivery: Mapped[Delivery] = mapped_column(enum_column(Delivery))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when a daily digest took it in (or, for EMAIL_NOW, when its own message was written).
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class NotificationPreference(db.Model):
    """A person's choice for one kind; without one, the kind's default holds."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    delivery: Mapped[Delivery] = mapped_column(enum_column(Delivery))


class MailStatus(enum.Enum):
    WAITING = "waiting"  # to be sent (again, after `next_attempt_at`)
    SENT = "sent"  # the SMTP server accepted it
    LOGGED = "logged"  # no SMTP server is set: written to the log and kept here instead

    @property
    def label(self) -> str:
        return {"waiting": "Waiting", "sent": "Sent", "logged": "Logged (no mail server set)"}[self.value]


class OutboxMessage(db.Model):
    """An email, written in the transaction of the change it tells of and sent by a job afterwards,
    so that a change and its message exist together or not at all."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # Extra headers as "Name: value" lines (List-Unsubscribe on digests).
    headers: Mapped[str] = mapped_column(Text, default="")
    # A message carrying a single-use link or code: its bodies are blanked once it has gone, so
    # that nobody reading this table later can use what it carried.
    holds_secret: Mapped[bool] = mapped_column(default=False)
    status: Mapped[MailStatus] = mapped_column(enum_column(MailStatus), default=MailStatus.WAITING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User | None] = relationship()
