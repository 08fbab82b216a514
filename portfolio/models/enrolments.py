"""Enrolments: one apprentice on one pinned standard version, and its status history."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import Organisation, User
from .standard_versions import StandardVersion
from .types import UTCDateTime, enum_column, utcnow


class EnrolmentStatus(enum.Enum):
    ON_PROGRAMME = "on_programme"
    BREAK_IN_LEARNING = "break_in_learning"
    AT_GATEWAY = "at_gateway"
    IN_EPA = "in_epa"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        # The rules' current words: "gateway to completion", "apprenticeship assessment" (once EPA).
        return {
            "on_programme": "On programme",
            "break_in_learning": "Break in learning",
            "at_gateway": "At gateway to completion",
            "in_epa": "In apprenticeship assessment",
            "completed": "Completed",
            "withdrawn": "Withdrawn",
        }[self.value]


class AgeBand(enum.Enum):
    """Age at the start, which decides whether English and maths must be achieved."""

    AGED_16_TO_18 = "16-18"
    AGED_19_TO_23 = "19-23"
    AGED_24_PLUS = "24+"

    @property
    def label(self) -> str:
        return {"16-18": "16 to 18", "19-23": "19 to 23", "24+": "24 or over"}[self.value]


# English and maths routes besides the standard's own alternatives (EHC plan, BSL...).
ENGLISH_AND_MATHS_ROUTES = {
    "required": "To be achieved before the apprenticeship assessment",
    "achieved": "Already achieved (certificates held)",
    "not_required": "Not required (19 or over at the start)",
}


class ReviewInterval(enum.Enum):
    """How often three-way progress reviews are due, under the funding rules of the start year."""

    TWELVE_WEEKS = "12_weeks"
    THREE_MONTHS = "3_months"

    @property
    def label(self) -> str:
        return {"12_weeks": "Every 12 weeks", "3_months": "Every 3 calendar months"}[self.value]


class Enrolment(db.Model):
    __tablename__ = "enrolments"

    id: Mapped[int] = mapped_column(primary_key=True)
    apprentice_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    standard_version_id: Mapped[int] = mapped_column(ForeignKey("standard_versions.id"), index=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    epao_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    tutor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    start_date: Mapped[date]
    planned_end_date: Mapped[date]
    planned_otj_hours: Mapped[int]
    age_band: Mapped[AgeBand] = mapped_column(enum_column(AgeBand))
    english_maths_route: Mapped[str] = mapped_column(String(40), default="required")
    english_maths_decided_on: Mapped[date | None]
    # Who agreed to leave English and maths out (an adult's choice is recorded with its date).
    english_maths_agreed_by: Mapped[str] = mapped_column(String(200), default="", server_default="")
    minimum_months_override: Mapped[int | None]
    # What the funding rules' minimum off-the-job hours depend on besides the standard and the dates.
    contracted_weekly_hours: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    prior_learning_otj_hours: Mapped[int] = mapped_column(default=0, server_default="0")
    # The rules' reason (its code) for a planned duration below their minimum, when there is one.
    duration_exception: Mapped[str | None] = mapped_column(String(40))
    # Breaks in learning, kept by enrolments/breaks.py for the pace and the review schedule: the
    # days of the breaks that have ended (the planned end moved by them), the start of the one
    # under way, and the latest return.
    paused_days: Mapped[int] = mapped_column(default=0, server_default="0")
    paused_since: Mapped[date | None]
    resumed_on: Mapped[date | None]
    review_interval: Mapped[ReviewInterval] = mapped_column(
        enum_column(ReviewInterval), default=ReviewInterval.THREE_MONTHS, server_default="3_months"
    )
    status: Mapped[EnrolmentStatus] = mapped_column(
        enum_column(EnrolmentStatus), default=EnrolmentStatus.ON_PROGRAMME, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Raised by a session hook with every change to what the portfolio's exports show
    # (enrolments/revision.py), never set by hand.
    portfolio_revision: Mapped[int] = mapped_column(default=0, server_default="0")

    apprentice: Mapped[User] = relationship(foreign_keys=[apprentice_id])
    standard_version: Mapped[StandardVersion] = relationship()
    employer: Mapped[Organisation] = relationship(foreign_keys=[employer_id])
    provider: Mapped[Organisation] = relationship(foreign_keys=[provider_id])
    epao: Mapped[Organisation | None] = relationship(foreign_keys=[epao_id])
    mentor: Mapped[User | None] = relationship(foreign_keys=[mentor_id])
    tutor: Mapped[User | None] = relationship(foreign_keys=[tutor_id])
    status_changes: Mapped[list[EnrolmentStatusChange]] = relationship(
        back_populates="enrolment", order_by="EnrolmentStatusChange.changed_at"
    )
    breaks: Mapped[list[LearningBreak]] = relationship(back_populates="enrolment", order_by="LearningBreak.starts_on")

    @property
    def english_maths_label(self) -> str:
        return self.english_maths_label_of(self.english_maths_route)

    def english_maths_label_of(self, route: str) -> str:
        """The words for an English and maths route (this one's now, or one recorded earlier)."""
        if route in ENGLISH_AND_MATHS_ROUTES:
            return ENGLISH_AND_MATHS_ROUTES[route]
        alternatives = self.standard_version.standard.gateway.english_and_maths.alternatives
        alternative = next((a for a in alternatives if a.code == route), None)
        return f"{alternative.requirement} ({alternative.applies_to.lower()})" if alternative else route


class EnrolmentStatusChange(db.Model):
    """Append-only history of an enrolment's status."""

    __tablename__ = "enrolment_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    from_status: Mapped[EnrolmentStatus | None] = mapped_column(enum_column(EnrolmentStatus))
    to_status: Mapped[EnrolmentStatus] = mapped_column(enum_column(EnrolmentStatus))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")

    enrolment: Mapped[Enrolment] = relationship(back_populates="status_changes")
    changed_by: Mapped[User | None] = relationship()


class LearningBreak(db.Model):
    """A break in learning: when it began, when the apprentice was expected back and why, and,
    once they are back, the return and how it moved the planned end."""

    __tablename__ = "learning_breaks"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    starts_on: Mapped[date]
    expected_return_on: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    returned_on: Mapped[date | None]
    planned_end_before: Mapped[date | None]  # set on the return, with the planned end after it
    planned_end_after: Mapped[date | None]
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    enrolment: Mapped[Enrolment] = relationship(back_populates="breaks")
    started_by: Mapped[User | None] = relationship(foreign_keys=[started_by_id])
    returned_by: Mapped[User | None] = relationship(foreign_keys=[returned_by_id])

    @property
    def days(self) -> int | None:
        return (self.returned_on - self.starts_on).days if self.returned_on else None
