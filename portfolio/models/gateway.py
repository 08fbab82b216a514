"""The gateway: declarations of readiness, submissions to the EPAO (numbered attempts) and the
assessor's decision on each gateway item."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from standard import Signer

from ..extensions import db
from .accounts import Organisation, User
from .enrolments import Enrolment
from .types import UTCDateTime, enum_column, utcnow


class GatewayDeclaration(db.Model):
    """One party's signed declaration of readiness, for one gateway attempt.

    `fingerprint` is the portfolio's SHA-256 fingerprint when it was signed: once the portfolio
    changes, the declaration is stale and must be given again. Append-only; the newest per signer
    and attempt is the one that counts.
    """

    __tablename__ = "gateway_declarations"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    attempt: Mapped[int]  # the number of the submission this declaration is for
    signer: Mapped[Signer] = mapped_column(enum_column(Signer))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    statement: Mapped[str] = mapped_column(Text)  # the standard's statement, as signed
    fingerprint: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    enrolment: Mapped[Enrolment] = relationship()
    user: Mapped[User] = relationship()


class GatewayOutcome(enum.Enum):
    PENDING = "pending"
    SIGNED_OFF = "signed_off"
    REFERRED = "referred"

    @property
    def label(self) -> str:
        return {"pending": "Awaiting the assessor", "signed_off": "Signed off", "referred": "Referred back"}[self.value]


class GatewaySubmission(db.Model):
    """One attempt at the gateway: the provider submits, the EPAO's assessor signs off or refers."""

    __tablename__ = "gateway_submissions"
    __table_args__ = (UniqueConstraint("enrolment_id", "number", name="uq_gateway_submissions_enrolment_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    number: Mapped[int]  # 1 for the first attempt, 2 after one referral, ...
    epao_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    fingerprint: Mapped[str] = mapped_column(String(64))  # the portfolio as submitted
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outcome: Mapped[GatewayOutcome] = mapped_column(enum_column(GatewayOutcome), default=GatewayOutcome.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")  # the assessor's overall comment

    enrolment: Mapped[Enrolment] = relationship()
    epao: Mapped[Organisation] = relationship()
    submitted_by: Mapped[User] = relationship(foreign_keys=[submitted_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    item_decisions: Mapped[list[GatewayItemDecision]] = relationship(
        back_populates="submission", order_by="GatewayItemDecision.id", cascade="all, delete-orphan"
    )


class GatewayItemDecision(db.Model):
    """The assessor's decision on one gateway item (a readiness check or the declarations).

    `fingerprint` is a SHA-256 of what the item looked at when it was decided (see
    `gateway.domain.readiness`): a referred item stays referred until that changes. None for
    decisions made before it was kept.
    """

    __tablename__ = "gateway_item_decisions"
    __table_args__ = (UniqueConstraint("submission_id", "item", name="uq_gateway_item_decisions_submission_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("gateway_submissions.id"), index=True)
    item: Mapped[str] = mapped_column(String(40))  # the code of the check, e.g. "otj_hours"
    accepted: Mapped[bool]
    reason: Mapped[str] = mapped_column(Text, default="")  # required when not accepted
    fingerprint: Mapped[str | None] = mapped_column(String(64))

    submission: Mapped[GatewaySubmission] = relationship(back_populates="item_decisions")


class Standing(enum.Enum):
    """Where one party's declaration stands for the current attempt (worked out, not stored)."""

    MISSING = "missing"
    CURRENT = "current"
    STALE = "stale"

    @property
    def label(self) -> str:
        return {"missing": "Not signed", "current": "Signed", "stale": "Out of date"}[self.value]
