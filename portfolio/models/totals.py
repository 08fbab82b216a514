"""Per-enrolment totals stored for the cohort table, so that it can sort thousands of
enrolments by them without aggregating every row beneath. Derived data, kept by
`portfolio.enrolment_totals` whenever a flush changes what they count; no row means nothing yet."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class EnrolmentCoverage(db.Model):
    """How many criteria are at least evidenced, at least accepted, and judged met."""

    __tablename__ = "enrolment_coverage"

    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), primary_key=True)
    evidenced: Mapped[int]
    accepted: Mapped[int]
    met: Mapped[int]


class EnrolmentOtjHours(db.Model):
    """Off-the-job hours logged (every entry, whatever its status) and approved."""

    __tablename__ = "enrolment_otj_hours"

    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), primary_key=True)
    logged: Mapped[Decimal] = mapped_column(Numeric(9, 2))
    approved: Mapped[Decimal] = mapped_column(Numeric(9, 2))
