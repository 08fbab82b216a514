"""Signing requests: a person without an account asked by email to sign a witness testimony or the
employer's part of a progress review, through a single-use link and a code sent to the same address."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .enrolments import Enrolment
from .types import UTCDateTime, as_utc, enum_column, utcnow

if TYPE_CHECKING:
    from .evidence import EvidenceItem
    from .progress_reviews import ProgressReview


class SigningPurpose(enum.Enum):
    WITNESS_TESTIMONY = "witness_testimony"
    PROGRESS_REVIEW = "progress_review"

    @property
    def label(self) -> str:
        return {"witness_testimony": "Witness testimony", "progress_review": "Progress review"}[self.value]


class SigningStatus(enum.Enum):
    PENDING = "pending"
    SIGNED = "signed"
    REFUSED = "refused"  # the witness declined to sign
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # by the requester, or replaced by a request sent again

    @property
    def label(self) -> str:
        return {
            "pending": "Waiting for the witness",
            "signed": "Signed",
            "refused": "Declined by the witness",
            "expired": "Expired",
            "withdrawn": "Withdrawn",
        }[self.value]


class SigningRequest(db.Model):
    """One emailed request to sign. Only hashes of its link's token and of its one-time code are
    kept: the link and the code exist in the emails alone."""

    __tablename__ = "signing_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[SigningPurpose] = mapped_column(enum_column(SigningPurpose))
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_items.id"), index=True)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("progress_reviews.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    witness_email: Mapped[str] = mapped_column(String(254))
    witness_name_given: Mapped[str] = mapped_column(String(200), default="")  # as the requester typed it
    text_to_confirm: Mapped[str] = mapped_column(Text, default="")  # blank: the witness writes it
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the link's token
    code_hash: Mapped[str | None] = mapped_column(String(64))  # keyed hash of the code last sent, until used
    code_attempts: Mapped[int] = mapped_column(default=0)  # wrong tries of that code
    codes_sent: Mapped[int] = mapped_column(default=0)
    code_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[SigningStatus] = mapped_column(enum_column(SigningStatus), default=SigningStatus.PENDING)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # withdrawn, declined or found expired
    refusal_reason: Mapped[str] = mapped_column(Text, default="")
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signer_name: Mapped[str] = mapped_column(String(200), default="")
    signer_job_title: Mapped[str] = mapped_column(String(200), default="")
    signer_relationship: Mapped[str] = mapped_column(String(200), default="")
    signed_text: Mapped[str] = mapped_column(Text, default="")  # exactly what the witness signed
    signer_address: Mapped[str] = mapped_column(String(100), default="")  # the network address they signed from
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    enrolment: Mapped[Enrolment] = relationship()
    item: Mapped[EvidenceItem | None] = relationship(foreign_keys=[item_id])
    review: Mapped[ProgressReview | None] = relationship(foreign_keys=[review_id])
    requested_by: Mapped[User] = relationship()

    def is_open(self, now: datetime) -> bool:
        """Waiting for the witness, and not past its time."""
        return self.status is SigningStatus.PENDING and as_utc(self.expires_at) > now
