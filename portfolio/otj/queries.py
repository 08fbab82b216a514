"""Which entries the off-the-job training log lists."""

from __future__ import annotations

from sqlalchemy import Select, select

from ..models import OtjEntry, OtjStatus


def log_entries(enrolment_id: int, status: OtjStatus | None) -> Select:
    """The enrolment's entries, of one status when given, the latest training first."""
    statement = select(OtjEntry).where(OtjEntry.enrolment_id == enrolment_id)
    if status is not None:
        statement = statement.where(OtjEntry.status == status)
    return statement.order_by(OtjEntry.activity_date.desc(), OtjEntry.id.desc())
