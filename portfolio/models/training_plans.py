"""The agreements made at the start of an apprenticeship: the skills scan (with the prior learning
it recognises) and the training plan. Each is kept in numbered versions: a change after anyone has
signed makes a new version, to be signed again, and the earlier ones stay as they were signed.
Both are signed by the three parties through one signature table."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from standard import Signer

from ..extensions import db
from .accounts import User
from .enrolments import Enrolment
from .types import UTCDateTime, enum_column, utcnow


class ScanRating(enum.Enum):
    """How much of a criterion the apprentice already knows or can do, at the start."""

    NEW = "new"
    SOME = "some"
    CONFIDENT = "confident"

    @property
    def label(self) -> str:
        return {"new": "New to me", "some": "Some experience", "confident": "Confident"}[self.value]


class SkillsScan(db.Model):
    """One version of an enrolment's skills scan: the apprentice's ratings, the employer's
    confirmation, the prior learning the tutor recognises, and the three signatures."""

    __tablename__ = "skills_scans"
    __table_args__ = (UniqueConstraint("enrolment_id", "number", name="uq_skills_scans_enrolment_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    number: Mapped[int]  # 1, 2, ...: the version
    rated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The prior learning recognised: hours off the planned and the minimum off-the-job hours, and
    # months off the planned duration (0 when it changes nothing).
    prior_learning_hours: Mapped[int] = mapped_column(default=0)
    prior_learning_months: Mapped[int] = mapped_column(default=0)
    prior_learning_summary: Mapped[str] = mapped_column(Text, default="")
    prior_learning_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    prior_learning_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when the third party signed
    # What the agreement did to the enrolment, kept with it (set when agreed).
    planned_otj_before: Mapped[int | None]
    planned_otj_after: Mapped[int | None]
    planned_end_before: Mapped[date | None]
    planned_end_after: Mapped[date | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    enrolment: Mapped[Enrolment] = relationship()
    rated_by: Mapped[User | None] = relationship(foreign_keys=[rated_by_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
    prior_learning_by: Mapped[User | None] = relationship(foreign_keys=[prior_learning_by_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    ratings: Mapped[list[SkillsScanRating]] = relationship(
        back_populates="scan", order_by="SkillsScanRating.id", cascade="all, delete-orphan"
    )
    prior_learning: Mapped[list[PriorLearning]] = relationship(
        back_populates="scan", order_by="PriorLearning.id", cascade="all, delete-orphan"
    )
    signatures: Mapped[list[AgreementSignature]] = relationship(
        back_populates="skills_scan", order_by="AgreementSignature.id", cascade="all, delete-orphan"
    )


class SkillsScanRating(db.Model):
    """The apprentice's rating of one criterion, and the employer's (None until they confirm)."""

    __tablename__ = "skills_scan_ratings"
    __table_args__ = (UniqueConstraint("skills_scan_id", "criterion_code", name="uq_skills_scan_ratings_scan_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    skills_scan_id: Mapped[int] = mapped_column(ForeignKey("skills_scans.id"), index=True)
    criterion_code: Mapped[str] = mapped_column(String(10))
    rating: Mapped[ScanRating] = mapped_column(enum_column(ScanRating))
    note: Mapped[str] = mapped_column(Text, default="")
    employer_rating: Mapped[ScanRating | None] = mapped_column(enum_column(ScanRating))
    employer_note: Mapped[str] = mapped_column(Text, default="")

    scan: Mapped[SkillsScan] = relationship(back_populates="ratings")


class PriorLearning(db.Model):
    """Prior learning recognised for a criterion or an area of the standard, and why."""

    __tablename__ = "prior_learning"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    skills_scan_id: Mapped[int] = mapped_column(ForeignKey("skills_scans.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200))  # a criterion's code, or an area's title
    reason: Mapped[str] = mapped_column(Text)

    scan: Mapped[SkillsScan] = relationship(back_populates="prior_learning")


class TrainingPlan(db.Model):
    """One version of an enrolment's training plan, agreed before training by the three parties."""

    __tablename__ = "training_plans"
    __table_args__ = (UniqueConstraint("enrolment_id", "number", name="uq_training_plans_enrolment_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    number: Mapped[int]
    english_maths_plan: Mapped[str] = mapped_column(Text, default="")
    agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    enrolment: Mapped[Enrolment] = relationship()
    created_by: Mapped[User] = relationship()
    activities: Mapped[list[PlannedActivity]] = relationship(
        back_populates="plan", order_by="PlannedActivity.id", cascade="all, delete-orphan"
    )
    signatures: Mapped[list[AgreementSignature]] = relationship(
        back_populates="training_plan", order_by="AgreementSignature.id", cascade="all, delete-orphan"
    )


class PlannedActivity(db.Model):
    """Off-the-job training the plan sets out: what, from when to when, how many hours, for which criteria."""

    __tablename__ = "planned_activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    training_plan_id: Mapped[int] = mapped_column(ForeignKey("training_plans.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    criteria: Mapped[str] = mapped_column(String(400), default="")  # codes separated by spaces

    plan: Mapped[TrainingPlan] = relationship(back_populates="activities")

    @property
    def codes(self) -> list[str]:
        return self.criteria.split()


class AgreementSignature(db.Model):
    """One party's signature of one version of a skills scan or a training plan (exactly one of
    the two), with exactly the content signed and its SHA-256 fingerprint.

    `content` is the canonical JSON (core.audit.canonical_json, as the audit log stores its values)
    of the document's snapshot as the signer saw it, the enrolment's parts included: an agreed
    version is shown from it, and `agreements.fingerprint_matches` recomputes the fingerprint from
    it, so the record can be checked later."""

    __tablename__ = "agreement_signatures"
    __table_args__ = (
        UniqueConstraint("skills_scan_id", "signer", name="uq_agreement_signatures_scan_signer"),
        UniqueConstraint("training_plan_id", "signer", name="uq_agreement_signatures_plan_signer"),
        CheckConstraint("(skills_scan_id IS NULL) <> (training_plan_id IS NULL)", name="one_document"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    skills_scan_id: Mapped[int | None] = mapped_column(ForeignKey("skills_scans.id"), index=True)
    training_plan_id: Mapped[int | None] = mapped_column(ForeignKey("training_plans.id"), index=True)
    signer: Mapped[Signer] = mapped_column(enum_column(Signer))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)  # canonical JSON of what was signed
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    skills_scan: Mapped[SkillsScan | None] = relationship(back_populates="signatures")
    training_plan: Mapped[TrainingPlan | None] = relationship(back_populates="signatures")
    user: Mapped[User] = relationship()
