"""Which audit events the trail pages list, newest first."""

from __future__ import annotations

from sqlalchemy import Select, select

from ..models import AuditEvent


def enrolment_events(enrolment_id: int) -> Select:
    return select(AuditEvent).where(AuditEvent.enrolment_id == enrolment_id).order_by(AuditEvent.id.desc())


def events_matching(action: str, enrolment_id: int | None) -> Select:
    """Every event, or those of one action and of one enrolment when given."""
    statement = select(AuditEvent)
    if action:
        statement = statement.where(AuditEvent.action == action)
    if enrolment_id is not None:
        statement = statement.where(AuditEvent.enrolment_id == enrolment_id)
    return statement.order_by(AuditEvent.id.desc())
