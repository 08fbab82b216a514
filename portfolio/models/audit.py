"""The audit trail: an append-only, keyed hash-chained log of every state change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    """Who did what, when, to which record, with the values before and after.

    `hash` is the HMAC-SHA256, under the audit key `key_id` names (the key itself is never
    stored here), of this event's fields and the previous event's hash, so editing or deleting
    any event breaks the chain from there on (`portfolio audit verify`). The columns
    hold plain values rather than foreign keys so that the log outlives what it describes.
    """

    __tablename__ = "audit_events"
    # An enrolment's trail is read newest first, a page at a time.
    __table_args__ = (Index("ix_audit_events_enrolment_id_id", "enrolment_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(index=True)  # None: the system or a command line
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(60), index=True)  # e.g. "evidence.submitted"
    subject_type: Mapped[str] = mapped_column(String(40))  # e.g. "evidence_item"
    subject_id: Mapped[int | None]
    enrolment_id: Mapped[int | None]
    before: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    after: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    previous_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))  # audit.key_id of the key that made `hash`
    hash: Mapped[str] = mapped_column(String(64), unique=True)
