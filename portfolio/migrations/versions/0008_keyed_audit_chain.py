"""keyed audit chain: each event's hash becomes an HMAC-SHA256 under the configured audit key

Adds `audit_events.key_id` (the fingerprint of the key that made an event's hash) and brings
an existing trail into the keyed chain: the old SHA-256 chain is checked first, and if any
event fails the upgrade stops and changes nothing, so that an altered trail is never
re-hashed into one that verifies. Otherwise every event is re-hashed in order under the
current key (PORTFOLIO_AUDIT_KEY, from the app of `portfolio db upgrade`), and one event,
"audit.chain_keyed", records how many events there were and the old newest hash, so that a
hash kept elsewhere before the upgrade can still be matched. The downgrade checks the keyed
chain and re-hashes it with plain SHA-256 again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:00:00

"""

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

from portfolio.core.audit import GENESIS, Keyring, canonical_json, current_keyring, event_hash
from portfolio.models.types import UTCDateTime, utcnow

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_BATCH = 1000


def _columns() -> list[sa.ColumnClause]:
    """The columns of revision 0005 (each table needs columns of its own)."""
    return [
        sa.column("id", sa.Integer),
        sa.column("occurred_at", UTCDateTime()),
        sa.column("actor_id", sa.Integer),
        sa.column("actor_name", sa.String),
        sa.column("action", sa.String),
        sa.column("subject_type", sa.String),
        sa.column("subject_id", sa.Integer),
        sa.column("enrolment_id", sa.Integer),
        sa.column("before", sa.Text),
        sa.column("after", sa.Text),
        sa.column("previous_hash", sa.String),
        sa.column("hash", sa.String),
    ]


unkeyed_events = sa.table("audit_events", *_columns())
keyed_events = sa.table("audit_events", *_columns(), sa.column("key_id", sa.String))


def _unkeyed_hash(event) -> str:
    """The hash of revision 0005: the plain SHA-256 of an event's fields and the hash before it."""
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


def _keyed_hash(keyring: Keyring) -> Callable:
    def hash_of(event) -> str:
        secret = keyring.secrets.get(event.key_id)
        return event_hash(event, secret) if secret is not None else ""

    return hash_of


def _in_order(connection, table) -> Iterator:
    """Every event, oldest first, a batch at a time (each batch read in full before it is rewritten)."""
    last = 0
    ordered = sa.select(table).order_by(table.c.id).limit(_BATCH)
    while batch := connection.execute(ordered.where(table.c.id > last)).all():
        yield from batch
        last = batch[-1].id


def _check(connection, table, hash_of: Callable) -> tuple[int, str]:
    """Stop the migration if the chain does not verify; else its length and newest hash."""
    previous, count, broken = GENESIS, 0, []
    for event in _in_order(connection, table):
        count += 1
        if event.previous_hash != previous or hash_of(event) != event.hash:
            broken.append(event.id)
        previous = event.hash
    if broken:
        shown = ", ".join(map(str, broken[:10])) + (" ..." if len(broken) > 10 else "")
        raise RuntimeError(
            f"The audit trail does not verify (events {shown}), so it is not re-hashed: find out what changed it first."
        )
    return count, previous


def _rehash(connection, table, hash_of: Callable, **values) -> None:
    """Give every event, in order, the hash `hash_of` makes with `values` set and the new hash before it."""
    previous = GENESIS
    for event in _in_order(connection, table):
        rehashed = {**event._asdict(), **values, "previous_hash": previous}
        rehashed["hash"] = hash_of(SimpleNamespace(**rehashed))
        del rehashed["id"]
        connection.execute(sa.update(table).where(table.c.id == event.id).values(**rehashed))
        previous = rehashed["hash"]


def upgrade():
    connection = op.get_bind()
    count, unkeyed_newest = _check(connection, unkeyed_events, _unkeyed_hash)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
    keyring = current_keyring()  # the configuration of the app running the migration
    if count:
        _rehash(connection, keyed_events, _keyed_hash(keyring), key_id=keyring.current_id)
        _record_keying(connection, keyring, count, unkeyed_newest)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("key_id", existing_type=sa.String(length=16), nullable=False)


def _record_keying(connection, keyring: Keyring, count: int, unkeyed_newest: str) -> None:
    previous = connection.scalar(sa.select(keyed_events.c.hash).order_by(keyed_events.c.id.desc()).limit(1))
    event = {
        "occurred_at": utcnow(),
        "actor_id": None,
        "actor_name": "",
        "action": "audit.chain_keyed",
        "subject_type": "audit_trail",
        "subject_id": None,
        "enrolment_id": None,
        "before": canonical_json({"events": count, "newest_hash": unkeyed_newest}),
        "after": canonical_json({"key_id": keyring.current_id}),
        "previous_hash": previous,
        "key_id": keyring.current_id,
    }
    event["hash"] = event_hash(SimpleNamespace(**event), keyring.current_secret)
    connection.execute(sa.insert(keyed_events).values(**event))


def downgrade():
    connection = op.get_bind()
    _check(connection, keyed_events, _keyed_hash(current_keyring()))
    _rehash(connection, unkeyed_events, _unkeyed_hash)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("key_id")
