"""What tutors and employers add to a portfolio: comments, criterion judgements, witness
signatures, off-the-job training entries and three-way progress reviews."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from standard import Signer

from ..extensions import db
from .accounts import User
from .enrolments import Enrolment
from .evidence import EvidenceItem
from .types import UTCDateTime, enum_column, utcnow


class EvidenceComment(db.Model):
    """A message in the thread on an evidence item (apprentice, employer and tutor)."""

    __tablename__ = "evidence_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    item: Mapped[EvidenceItem] = relationship()
    author: Mapped[User] = relationship()


class WitnessSignature(db.Model):
    """The employer's signature on a witness testimony: who, in what role, when."""

    __tablename__ = "witness_signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id"), unique=True)
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_name: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    item: Mapped[EvidenceItem] = relationship()
    signed_by: Mapped[User] = relationship()


class CriterionJudgement(db.Model):
    """A tutor's judgement of one criterion; append-only, the newest per criterion is current."""

    __tablename__ = "criterion_judgements"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    criterion_code: Mapped[str] = mapped_column(String(10))
    level_code: Mapped[str] = mapped_column(String(40))
    met: Mapped[bool]  # whether the level counted as met in the pinned standard's scale
    note: Mapped[str] = mapped_column(Text, default="")
    judged_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    judged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    enrolment: Mapped[Enrolment] = relationship()
    judged_by: Mapped[User] = relationship()


class OtjActivity(enum.Enum):
    TAUGHT_SESSION = "taught_session"
    WORKSHOP = "workshop"
    SHADOWING = "shadowing"
    MENTORING = "mentoring"
    VISIT = "visit"
    SELF_STUDY = "self_study"
    WRITING_EVIDENCE = "writing_evidence"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class OtjStatus(enum.Enum):
    LOGGED = "logged"
    APPROVED = "approved"
    QUERIED = "queried"

    @property
    def label(self) -> str:
        return {"logged": "Awaiting approval", "approved": "Approved", "queried": "Queried"}[self.value]


class OtjEntry(db.Model):
    """Off-the-job training the apprentice did, for the tutor to approve or query."""

    __tablename__ = "otj_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    activity_date: Mapped[date]
    hours: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    activity: Mapped[OtjActivity] = mapped_column(enum_column(OtjActivity))
    learning: Mapped[str] = mapped_column(Text)
    criteria: Mapped[str] = mapped_column(String(400), default="")  # codes separated by spaces
    status: Mapped[OtjStatus] = mapped_column(enum_column(OtjStatus), default=OtjStatus.LOGGED, index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    query_note: Mapped[str] = mapped_column(Text, default="")

    enrolment: Mapped[Enrolment] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    @property
    def codes(self) -> list[str]:
        return self.criteria.split()


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
    __tablename__ = "review_signatures"
    __table_args__ = (UniqueConstraint("review_id", "signer", name="uq_review_signatures_review_signer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("progress_reviews.id"), index=True)
    signer: Mapped[Signer] = mapped_column(enum_column(Signer))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    review: Mapped[ProgressReview] = relationship(back_populates="signatures")
    user: Mapped[User] = relationship()
