"""The audit trail: every state change appends an event to a hash-chained log.

Each event's hash covers its own fields and the previous event's hash, so an edited event no
longer matches its hash and a deleted one breaks the link to the next; `verify` finds both.
Events are appended in the transaction of the change they describe, so a change and its
event are kept or rolled back together.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, object_session

from .models import AuditEvent, Enrolment, User
from .models.types import utcnow

GENESIS = "0" * 64  # the "previous hash" of the first event
# Appending reads the newest hash and writes the next: one writer at a time, until commit. On
# PostgreSQL a transaction-scoped advisory lock (this key, arbitrary but fixed) serialises
# appenders. SQLite serialises writers, but a transaction only becomes a writer at its first
# write, so an appender that has written nothing yet first makes a write that changes nothing.
_CHAIN_LOCK = 7_340_021


def record(
    session: Session,
    action: str,
    *,
    actor: User | None,
    subject_type: str,
    subject_id: int | None = None,
    enrolment_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append an event: `actor` did `action` (e.g. "evidence.accepted") to a subject."""
    # Flush the change being recorded first, so that its row locks (and those of the flush
    # hooks) are taken before the chain's lock. Taken after it, two transactions could each
    # hold what the other waits for: one the chain, the other an enrolment's row.
    session.flush()
    _lock_chain(session)
    previous = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor.id if actor else None,
        actor_name=actor.name if actor else "",
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        enrolment_id=enrolment_id,
        before=canonical_json(before or {}),
        after=canonical_json(after or {}),
        previous_hash=previous,
    )
    event.hash = event_hash(event)
    session.add(event)
    session.flush()
    return event


def record_change(
    action: str,
    subject: Any,
    *,
    actor: User | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append an event about a model instance, in the session that holds it.

    The subject's type, id and enrolment come from the instance. `before` and `after` may be
    whole snapshots (see `values`): a field with the same value in both is left out, so the
    event holds only what changed.
    """
    session = object_session(subject)
    if session is None:
        raise ValueError(f"{subject!r} is not in a session, so its change cannot be recorded")
    session.flush()  # a new subject gets its id
    before, after = dict(before or {}), dict(after or {})
    for name in before.keys() & after.keys():
        if before[name] == after[name]:
            del before[name], after[name]
    return record(
        session,
        action,
        actor=actor,
        subject_type=subject_type(subject),
        subject_id=subject.id,
        enrolment_id=enrolment_id_of(subject),
        before=before,
        after=after,
    )


def values(subject: Any, *names: str) -> dict[str, Any]:
    """The named attributes of `subject`, for `before` or `after`."""
    return {name: getattr(subject, name) for name in names}


def subject_type(subject: Any) -> str:
    """A model's name in snake case: EvidenceItem -> "evidence_item"."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(subject).__name__).lower()


def enrolment_id_of(subject: Any) -> int | None:
    """The enrolment a subject belongs to (an enrolment belongs to itself), if any."""
    if isinstance(subject, Enrolment):
        return subject.id
    return getattr(subject, "enrolment_id", None)


def _lock_chain(session: Session) -> None:
    """Become the only appender until this transaction ends (see _CHAIN_LOCK)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    elif dialect == "sqlite":
        session.execute(text("UPDATE audit_events SET id = id WHERE 0"))


def event_hash(event: Any) -> str:
    """The SHA-256 of an event (an AuditEvent or a row of its table) and the hash before it."""
    fields = {
        "previous_hash": event.previous_hash,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "enrolment_id": event.enrolment_id,
        "before": event.before,
        "after": event.after,
    }
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


def canonical_json(values: Mapping[str, Any]) -> str:
    """One spelling of a mapping: sorted keys, no spaces, enums by value, dates in ISO 8601."""
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"{type(value).__name__} is not a value the audit log records")


@dataclass(frozen=True)
class Problem:
    event_id: int
    message: str


@dataclass(frozen=True)
class Verification:
    events: int
    problems: list[Problem]
    # Deleting the newest events leaves no gap in the chain: compare this with a copy kept elsewhere.
    newest_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session) -> Verification:
    """Check every event against its hash and its link to the one before, oldest first."""
    problems: list[Problem] = []
    previous = GENESIS
    count = 0
    for event in _events_in_order(session):
        count += 1
        if event.previous_hash != previous:
            problems.append(Problem(event.id, "does not follow the event before it (an event was deleted or edited)"))
        if event_hash(event) != event.hash:
            problems.append(Problem(event.id, "does not match its hash (the event was edited)"))
        previous = event.hash
    return Verification(events=count, problems=problems, newest_hash=previous)


def _events_in_order(session: Session) -> Iterator[Any]:
    """Every event as a plain row (not an ORM object, so memory stays flat over a long log)."""
    statement = select(AuditEvent.__table__).order_by(AuditEvent.id).execution_options(yield_per=1000)
    yield from session.execute(statement)


def event_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0
