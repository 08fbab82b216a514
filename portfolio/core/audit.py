"""The audit trail: every state change appends an event to a keyed hash chain.

Each event's hash is an HMAC-SHA256, under a key kept in the configuration and never in the
database, of its own fields and the previous event's hash. An edited event no longer matches
its hash and a deleted one breaks the link to the next; whoever can write to the database but
lacks the key can neither re-hash the chain nor append an event that verifies. Deleting the
newest events leaves no gap: `verify` compares the trail with anchors, (id, hash) pairs that
`portfolio audit anchor` copied elsewhere. Events are appended in the transaction of the
change they describe, so a change and its event are kept or rolled back together.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session, object_session

from ..models import AuditEvent, Enrolment, User
from ..models.types import utcnow
from .domain import DomainError, attributes

T = TypeVar("T")

GENESIS = "0" * 64  # the "previous hash" of the first event
# Appending reads the newest hash and writes the next: one writer at a time, until commit. On
# PostgreSQL a transaction-scoped advisory lock (this key, arbitrary but fixed) serialises
# appenders. SQLite serialises writers, but a transaction only becomes a writer at its first
# write, so an appender that has written nothing yet first makes a write that changes nothing.
_CHAIN_LOCK = 7_340_021


@dataclass(frozen=True)
class Change:
    """One event of a batch (`record_changes`): `action` done to `subject`, with what changed."""

    action: str
    subject: Any
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None


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
    keyring = current_keyring()
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
        key_id=keyring.current_id,
    )
    event.hash = event_hash(event, keyring.current_secret)
    session.add(event)
    session.flush()
    return event


def record_changes(session: Session, changes: Sequence[Change], *, actor: User | None) -> list[AuditEvent]:
    """Append an event per change, as `record_change` does each, with one flush, one lock of the
    chain and one read of its newest hash for the lot: a fixed number of statements however many.
    The events returned are not in the session (their ids are not read back)."""
    if not changes:
        return []
    session.flush()  # the subjects' changes first, as `record` explains
    _lock_chain(session)
    previous = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
    keyring = current_keyring()
    now = utcnow()
    events = []
    for change in changes:
        before, after = _what_changed(change.before, change.after)
        event = AuditEvent(
            occurred_at=now,
            actor_id=actor.id if actor else None,
            actor_name=actor.name if actor else "",
            action=change.action,
            subject_type=subject_type(change.subject),
            subject_id=change.subject.id,
            enrolment_id=enrolment_id_of(change.subject),
            before=canonical_json(before),
            after=canonical_json(after),
            previous_hash=previous,
            key_id=keyring.current_id,
        )
        event.hash = previous = event_hash(event, keyring.current_secret)
        events.append(event)
    # One executemany, which the ORM would split into an INSERT per event to learn their ids.
    columns = [c.key for c in AuditEvent.__table__.columns if c.key != "id"]
    session.execute(insert(AuditEvent), [{name: getattr(event, name) for name in columns} for event in events])
    return events


def _what_changed(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> tuple[dict, dict]:
    """`before` and `after` without the fields whose value is the same in both."""
    before, after = dict(before or {}), dict(after or {})
    for name in before.keys() & after.keys():
        if before[name] == after[name]:
            del before[name], after[name]
    return before, after


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
    before, after = _what_changed(before, after)
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


# What `before` and `after` record of a subject: its named attributes.
values = attributes


def record_added(session: Session, action: str, subject: T, *, actor: User | None, after: Mapping[str, Any]) -> T:
    """Add the new `subject` to the session and record `action` with `after`; returns `subject`."""
    session.add(subject)
    record_change(action, subject, actor=actor, after=after)
    return subject


@contextmanager
def recording(action: str, subject: Any, *, actor: User | None, values: Callable[[Any], Mapping[str, Any]]):
    """Record `action` with `values(subject)` as the with-block found and left it (nothing if it raises)."""
    before = values(subject)
    yield
    record_change(action, subject, actor=actor, before=before, after=values(subject))


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


KEY_ID_LENGTH = 16


def key_id(secret: bytes) -> str:
    """A key's fingerprint, stored with each event it makes; it reveals nothing of the key."""
    return hmac.new(secret, b"portfolio audit key id", hashlib.sha256).hexdigest()[:KEY_ID_LENGTH]


@dataclass(frozen=True)
class Keyring:
    """The key that makes new events and the older keys that still verify theirs, by key id."""

    current_id: str
    secrets: Mapping[str, bytes] = field(repr=False)

    @classmethod
    def of(cls, current: str, old: Iterable[str] = ()) -> Keyring:
        secrets = {key_id(secret): secret for secret in (key.encode("utf-8") for key in [*old, current])}
        return cls(key_id(current.encode("utf-8")), secrets)

    @property
    def current_secret(self) -> bytes:
        return self.secrets[self.current_id]


def current_keyring() -> Keyring:
    """The keys of the running application's configuration (AUDIT_KEY and AUDIT_KEYS_OLD)."""
    return Keyring.of(current_app.config["AUDIT_KEY"], current_app.config["AUDIT_KEYS_OLD"])


def event_hash(event: Any, secret: bytes) -> str:
    """The HMAC-SHA256 under `secret` of an event (an AuditEvent or a row of its table), the
    hash before it and the id of its key."""
    fields = {
        "previous_hash": event.previous_hash,
        "key_id": event.key_id,
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
    return hmac.new(secret, canonical_json(fields).encode("utf-8"), hashlib.sha256).hexdigest()


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
class Anchor:
    """An event's id and hash as `portfolio audit anchor` kept them elsewhere."""

    event_id: int
    hash: str
    where: str = ""  # e.g. "anchors.txt line 3", for messages


@dataclass(frozen=True)
class Verification:
    events: int
    problems: list[Problem]
    newest_hash: str = GENESIS
    newest_id: int = 0  # 0: no events

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, keyring: Keyring | None = None, anchors: Sequence[Anchor] = ()) -> Verification:
    """Check every event against its keyed hash and its link to the one before, oldest first,
    then the trail against the anchors kept elsewhere."""
    keyring = keyring or current_keyring()
    problems: list[Problem] = []
    anchored: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        anchored.setdefault(anchor.event_id, []).append(anchor)
    previous, newest_id, count = GENESIS, 0, 0
    for event in _events_in_order(session):
        count += 1
        if event.previous_hash != previous:
            problems.append(Problem(event.id, "does not follow the event before it (an event was deleted or edited)"))
        secret = keyring.secrets.get(event.key_id)
        if secret is None:
            problems.append(Problem(event.id, f"was made with audit key {event.key_id}, which is not configured"))
        elif not hmac.compare_digest(event_hash(event, secret), event.hash):
            problems.append(Problem(event.id, "does not match its hash (the event was edited or forged)"))
        for anchor in anchored.pop(event.id, []):
            if anchor.hash != event.hash:
                problems.append(Problem(event.id, f"differs from its anchor ({anchor.where}): the trail was rewritten"))
        previous, newest_id = event.hash, event.id
    problems.extend(_missing_anchored([a for same in anchored.values() for a in same], newest_id))
    return Verification(events=count, problems=problems, newest_hash=previous, newest_id=newest_id)


def _missing_anchored(anchors: Iterable[Anchor], newest_id: int) -> Iterator[Problem]:
    for anchor in sorted(anchors, key=lambda a: a.event_id):
        if anchor.event_id > newest_id:
            why = f"the trail now ends at event {newest_id}: the newest events were deleted"
        else:
            why = "it was deleted"
        yield Problem(anchor.event_id, f"is anchored ({anchor.where}) but missing: {why}")


def parse_anchors(text: str, source: str) -> list[Anchor]:
    """The anchors in the lines `portfolio audit anchor` wrote ("ID HASH TIME"); blank lines and
    lines starting with # are skipped."""
    anchors = []
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        where = f"{source} line {number}"
        if len(words) < 2 or not re.fullmatch(r"[0-9]+", words[0]) or not re.fullmatch(r"[0-9a-f]{64}", words[1]):
            raise DomainError(f"{where} is not an anchor (event id, hash, time)", "anchor")
        anchors.append(Anchor(int(words[0]), words[1], where))
    return anchors


def anchor_line(session: Session) -> str | None:
    """The newest event's id, hash and time as one line, or None when the trail is empty."""
    newest = session.execute(
        select(AuditEvent.id, AuditEvent.hash, AuditEvent.occurred_at).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    if newest is None:
        return None
    return f"{newest.id} {newest.hash} {newest.occurred_at.astimezone(UTC).isoformat(timespec='microseconds')}"


def _events_in_order(session: Session) -> Iterator[Any]:
    """Every event as a plain row (not an ORM object, so memory stays flat over a long log)."""
    statement = select(AuditEvent.__table__).order_by(AuditEvent.id).execution_options(yield_per=1000)
    yield from session.execute(statement)


def event_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0
