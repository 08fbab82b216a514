"""Three-way progress reviews: the record, the criteria discussed and the signatures."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from standard import Signer

from ..extensions import db
from .accounts import User
from .enrolments import Enrolment
from .types import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from .signing_requests import SigningRequest


class Rag(enum.Enum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class ProgressReview(db.Model):
    """A three-way progress review, complete once apprentice, employer and provider have signed."""

    __tablename__ = "progress_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    review_date: Mapped[date]
    attendees: Mapped[str] = mapped_column(Text)
    progress: Mapped[str] = mapped_column(Text)
    otj_and_slippage: Mapped[str] = mapped_column(Text, default="")
    wellbeing_and_support: Mapped[str] = mapped_column(Text, default="")
    actions: Mapped[str] = mapped_column(Text, default="")
    # What the funding rules ask each review to record besides (from migration 0020).
    actions_since_last: Mapped[str] = mapped_column(Text, default="", server_default="")
    training_plan_changes: Mapped[str] = mapped_column(Text, default="", server_default="")
    concerns_and_changes: Mapped[str] = mapped_column(Text, default="", server_default="")
    late_reason: Mapped[str] = mapped_column(Text, default="", server_default="")  # later than the rules ask
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    enrolment: Mapped[Enrolment] = relationship()
    created_by: Mapped[User] = relationship()
    criteria: Mapped[list[ReviewCriterion]] = relationship(
        back_populates="review", order_by="ReviewCriterion.id", cascade="all, delete-orphan"
    )
    signatures: Mapped[list[ReviewSignature]] = relationship(
        back_populates="review", order_by="ReviewSignature.id", cascade="all, delete-orphan"
    )
    # The emailed requests for the employer's signature, to someone who may have no account.
    signing_requests: Mapped[list[SigningRequest]] = relationship(viewonly=True, order_by="SigningRequest.id")


class ReviewCriterion(db.Model):
    """A criterion discussed at a progress review, with its RAG rating."""

    __tablename__ = "review_criteria"
    __table_args__ = (UniqueConstraint("review_id", "criterion_code", name="uq_review_criteria_review_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("progress_reviews.id"), index=True)
    criterion_code: Mapped[str] = mapped_column(String(10))
    rag: Mapped[Rag] = mapped_column(enum_column(Rag))
    note: Mapped[str] = mapped_column(Text, default="")

    review: Mapped[ProgressReview] = relationship(back_populates="criteria")


class ReviewSignature(db.Model):
    """One party's signature: by a user signing for their party, or, for the employer, by someone
    without an account through an emailed signing request (then `user_id` is None)."""

    __tablename__ = "review_signatures"
    __table_args__ = (UniqueConstraint("review_id", "signer", name="uq_review_signatures_review_signer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("progress_reviews.id"), index=True)
    signer: Mapped[Signer] = mapped_column(enum_column(Signer))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signing_request_id: Mapped[int | None] = mapped_column(ForeignKey("signing_requests.id"))
    # The name given by a signer without an account; a user's signature shows their account's name.
    signer_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    review: Mapped[ProgressReview] = relationship(back_populates="signatures")
    user: Mapped[User | None] = relationship()
    signing_request: Mapped[SigningRequest | None] = relationship()

    @property
    def name(self) -> str:
        """Who signed, as the record shows them."""
        return self.user.name if self.user is not None else self.signer_name
