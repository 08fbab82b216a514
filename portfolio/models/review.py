"""What reviewers add to evidence: comments, criterion judgements and witness signatures."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .enrolments import Enrolment
from .evidence import EvidenceItem
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .signing_requests import SigningRequest


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
    """The witness's signature on a testimony: who, in what role, when. Either an employer's user
    signed it as themselves (`signed_by_id`), or a witness without an account signed it through an
    emailed signing request (`signing_request_id`, which holds the rest of what they gave)."""

    __tablename__ = "witness_signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id"), unique=True)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signing_request_id: Mapped[int | None] = mapped_column(ForeignKey("signing_requests.id"))
    signed_name: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    item: Mapped[EvidenceItem] = relationship()
    signed_by: Mapped[User | None] = relationship()
    signing_request: Mapped[SigningRequest | None] = relationship()


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
