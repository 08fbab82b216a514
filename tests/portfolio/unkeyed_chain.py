"""The audit chain as it was before it was keyed: plain SHA-256, which anyone can compute.

Tests use it as an attacker with write access to the database would, and to write a trail
the old way before the migration that keys it.
"""

from __future__ import annotations

import importlib
from typing import Any

from portfolio.core.audit import GENESIS

# The one frozen copy of the old hash is the migration's, which checks a legacy trail with it.
unkeyed_hash = importlib.import_module("portfolio.migrations.versions.0008_keyed_audit_chain")._unkeyed_hash


def rechain_unkeyed(events: list[Any]) -> None:
    """Re-link and re-hash `events` (oldest first, edited as wished) with plain SHA-256, as
    someone who can write to the database but lacks the key would; the caller commits."""
    previous = GENESIS
    for event in events:
        event.previous_hash = previous
        event.hash = previous = unkeyed_hash(event)
