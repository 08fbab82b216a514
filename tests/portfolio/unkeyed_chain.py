"""The audit chain as it was before it was keyed: plain SHA-256, which anyone can compute.

Tests use it as an attacker with write access to the database would, and to write a trail
the old way before the migration that keys it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC
from typing import Any

from portfolio.audit import GENESIS, canonical_json


def unkeyed_hash(event: Any) -> str:
    """The SHA-256 of an event's fields and the hash before it, as revision 0005 made it."""
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


def rechain_unkeyed(events: list[Any]) -> None:
    """Re-link and re-hash `events` (oldest first, edited as wished) with plain SHA-256, as
    someone who can write to the database but lacks the key would; the caller commits."""
    previous = GENESIS
    for event in events:
        event.previous_hash = previous
        event.hash = previous = unkeyed_hash(event)
