"""Evidence items, their files, their links to criteria and their status history."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .enrolments import Enrolment
from .types import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from .signing_requests import SigningRequest


class EvidenceKind(enum.Enum):
    REPORT = "report"
    FEEDBACK = "feedback"
    RISK_ASSESSMENT = "risk_assessment"
    EVENT_PLAN = "event_plan"
    BUDGET = "budget"
    PHOTO_OR_VIDEO = "photo_or_video"
    WITNESS_TESTIMONY = "witness_testimony"
    REFLECTIVE_ACCOUNT = "reflective_account"
    CERTIFICATE = "certificate"
    OBSERVATION_RECORD = "observation_record"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "report": "Report",
            "feedback": "Feedback",
            "risk_assessment": "Risk assessment",
            "event_plan": "Event plan or schedule",
            "budget": "Budget",
            "photo_or_video": "Photo or video",
            "witness_testimony": "Witness testimony",
            "reflective_account": "Reflective account",
            "certificate": "Certificate",
            "observation_record": "Observation record",
            "other": "Other",
        }[self.value]


class EvidenceStatus(enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REFERRED = "referred"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return {
            "draft": "Draft",
            "submitted": "Submitted for review",
            "accepted": "Accepted",
            "referred": "Referred back",
            "withdrawn": "Withdrawn",
        }[self.value]


class EvidenceItem(db.Model):
    __tablename__ = "evidence_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[EvidenceKind] = mapped_column(enum_column(EvidenceKind))
    activity_date: Mapped[date]
    description: Mapped[str] = mapped_column(Text, default="")
    reflection: Mapped[str] = mapped_column(Text, default="")
    contains_third_party_data: Mapped[bool] = mapped_column(default=False)
    consent_reference: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[EvidenceStatus] = mapped_column(
        enum_column(EvidenceStatus), default=EvidenceStatus.DRAFT, index=True
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # How many times it has been submitted: 2 or more is a resubmission after a referral.
    attempt: Mapped[int] = mapped_column(default=0, server_default="0")
    # Who is reviewing a submitted item, so that two tutors do not decide it at once. A referral
    # keeps its reviewer (review_started_at cleared), so that the resubmission goes back to them.
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    enrolment: Mapped[Enrolment] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    files: Mapped[list[EvidenceFile]] = relationship(
        back_populates="item", order_by="EvidenceFile.id", cascade="all, delete-orphan"
    )
    links: Mapped[list[CriterionLink]] = relationship(
        back_populates="item", order_by="CriterionLink.id", cascade="all, delete-orphan"
    )
    decisions: Mapped[list[CriterionDecision]] = relationship(
        order_by="CriterionDecision.id", cascade="all, delete-orphan"
    )
    history: Mapped[list[EvidenceStatusChange]] = relationship(
        back_populates="item", order_by="EvidenceStatusChange.id", cascade="all, delete-orphan"
    )
    # A witness testimony asked of someone without an account: the emailed requests to sign it.
    signing_requests: Mapped[list[SigningRequest]] = relationship(viewonly=True, order_by="SigningRequest.id")

    @property
    def codes(self) -> list[str]:
        return [link.criterion_code for link in self.links]


class EvidenceFile(db.Model):
    """A file of an evidence item; the bytes live in the evidence store under their SHA-256."""

    __tablename__ = "evidence_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    # Beside the SHA-256, for the ZIP export's local headers; None until the file has been read
    # (files stored before migration 0009 whose bytes were not there to read).
    crc32: Mapped[int | None] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    # An image's width times height, read at upload so that no page reads the store to decide
    # whether to show it; None for other kinds, and for images stored before migration 0011 could.
    pixels: Mapped[int | None] = mapped_column(BigInteger)
    display_name: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    item: Mapped[EvidenceItem] = relationship(back_populates="files")
    uploaded_by: Mapped[User] = relationship()


class LinkDecision(enum.Enum):
    """A reviewer's decision on one criterion an item claims."""

    ACCEPTED = "accepted"
    REFERRED = "referred"

    @property
    def label(self) -> str:
        return {"accepted": "Accepted", "referred": "Referred back"}[self.value]


class CriterionLink(db.Model):
    """A claim that an evidence item shows a criterion, with how it shows it, and the reviewer's
    latest decision on it (each decision is kept in `criterion_decisions`)."""

    __tablename__ = "criterion_links"
    __table_args__ = (UniqueConstraint("item_id", "criterion_code", name="uq_criterion_links_item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id"), index=True)
    criterion_code: Mapped[str] = mapped_column(String(10), index=True)
    justification: Mapped[str] = mapped_column(Text)
    # None until decided, and again once the apprentice changes what the claim says.
    decision: Mapped[LinkDecision | None] = mapped_column(enum_column(LinkDecision))
    feedback: Mapped[str] = mapped_column(Text, default="", server_default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    item: Mapped[EvidenceItem] = relationship(back_populates="links")
    decided_by: Mapped[User | None] = relationship()


class CriterionDecision(db.Model):
    """Append-only history of the decisions on an item's criteria, one row per criterion decided."""

    __tablename__ = "criterion_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id"), index=True)
    criterion_code: Mapped[str] = mapped_column(String(10))
    decision: Mapped[LinkDecision] = mapped_column(enum_column(LinkDecision))
    feedback: Mapped[str] = mapped_column(Text, default="")
    attempt: Mapped[int]  # the item's submission it decided
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    decided_by: Mapped[User] = relationship()


class EvidenceStatusChange(db.Model):
    """Append-only history of an evidence item's status."""

    __tablename__ = "evidence_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id"), index=True)
    from_status: Mapped[EvidenceStatus | None] = mapped_column(enum_column(EvidenceStatus))
    to_status: Mapped[EvidenceStatus] = mapped_column(enum_column(EvidenceStatus))
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")

    item: Mapped[EvidenceItem] = relationship(back_populates="history")
    changed_by: Mapped[User] = relationship()
