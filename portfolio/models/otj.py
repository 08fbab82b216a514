"""Off-the-job training entries."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .enrolments import Enrolment
from .types import UTCDateTime, enum_column, utcnow


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
