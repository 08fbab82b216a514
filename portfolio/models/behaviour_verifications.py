"""The employer's verification of the apprentice's behaviours, before the gateway to completion.

Where the standard's assessment plan asks for it (`employer_verifies_behaviours` in its YAML),
someone of the apprentice's employer confirms each behaviour criterion, or says it is not yet
shown, with a note. Append-only: each signed verification is kept, and the newest counts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .enrolments import Enrolment
from .types import UTCDateTime, utcnow


class BehaviourVerification(db.Model):
    """One signed verification of every behaviour of the enrolment's standard.

    `fingerprint` is a SHA-256 of the behaviours' statements and the decisions and notes as signed
    (`gateway.behaviours.verification_fingerprint`), so that the record can be checked later.
    """

    __tablename__ = "behaviour_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    fingerprint: Mapped[str] = mapped_column(String(64))

    enrolment: Mapped[Enrolment] = relationship()
    signed_by: Mapped[User] = relationship()
    decisions: Mapped[list[BehaviourDecision]] = relationship(
        back_populates="verification", order_by="BehaviourDecision.id", cascade="all, delete-orphan"
    )

    @property
    def not_yet(self) -> list[str]:
        """The codes of the behaviours not yet confirmed, in the standard's order."""
        return [decision.criterion_code for decision in self.decisions if not decision.confirmed]


class BehaviourDecision(db.Model):
    """The employer's decision on one behaviour: confirmed, or not yet (with a note saying why)."""

    __tablename__ = "behaviour_decisions"
    __table_args__ = (
        UniqueConstraint("verification_id", "criterion_code", name="uq_behaviour_decisions_verification_criterion"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    verification_id: Mapped[int] = mapped_column(ForeignKey("behaviour_verifications.id"), index=True)
    criterion_code: Mapped[str] = mapped_column(String(10))
    statement: Mapped[str] = mapped_column(Text)  # the behaviour's statement in the pinned standard, as signed
    confirmed: Mapped[bool]
    note: Mapped[str] = mapped_column(Text, default="")  # required when not yet confirmed

    verification: Mapped[BehaviourVerification] = relationship(back_populates="decisions")

    @property
    def label(self) -> str:
        return "Confirmed" if self.confirmed else "Not yet"
