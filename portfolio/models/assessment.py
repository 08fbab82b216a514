"""The assessment result: numbered attempts recorded by the assessment organisation, each with the
grade of every assessment method and the overall grade."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import Organisation, User
from .enrolments import Enrolment
from .types import UTCDateTime, enum_column, utcnow


class AttemptKind(enum.Enum):
    """The first attempt; after a fail, a resit (no further learning) or a retake (after more learning)."""

    FIRST = "first"
    RESIT = "resit"
    RETAKE = "retake"

    @property
    def label(self) -> str:
        return {"first": "First attempt", "resit": "Resit", "retake": "Retake"}[self.value]


class AssessmentAttempt(db.Model):
    """One attempt at the apprenticeship assessment, as the assessor recorded it. Append-only: a
    recorded attempt is final (an administrator corrects a mistake outside the service)."""

    __tablename__ = "assessment_attempts"
    __table_args__ = (UniqueConstraint("enrolment_id", "number", name="uq_assessment_attempts_enrolment_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    number: Mapped[int]  # 1, 2, ...
    kind: Mapped[AttemptKind] = mapped_column(enum_column(AttemptKind))
    epao_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    grade: Mapped[str] = mapped_column(String(60))  # the overall grade, by its name in the plan
    passed: Mapped[bool]
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    enrolment: Mapped[Enrolment] = relationship()
    epao: Mapped[Organisation] = relationship()
    recorded_by: Mapped[User] = relationship()
    methods: Mapped[list[AssessmentMethodResult]] = relationship(
        back_populates="attempt", order_by="AssessmentMethodResult.id", cascade="all, delete-orphan"
    )


class AssessmentMethodResult(db.Model):
    """The grade one assessment method gave in an attempt. A method passed at the attempt before
    and not reassessed is carried over, with its grade and date from then."""

    __tablename__ = "assessment_method_results"
    __table_args__ = (UniqueConstraint("attempt_id", "method", name="uq_assessment_method_results_attempt_method"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("assessment_attempts.id"), index=True)
    method: Mapped[str] = mapped_column(String(40))  # the method's code in the plan
    name: Mapped[str] = mapped_column(String(300))  # the method's name, as the plan gave it then
    grade: Mapped[str] = mapped_column(String(60))
    passed: Mapped[bool]
    assessed_on: Mapped[date]
    carried_over: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(Text, default="")

    attempt: Mapped[AssessmentAttempt] = relationship(back_populates="methods")
