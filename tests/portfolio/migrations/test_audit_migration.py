"""Migration 0008 brings a trail of plain SHA-256 events into the keyed chain, and back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from portfolio import MIGRATIONS, create_app
from portfolio.core import audit
from portfolio.extensions import db
from portfolio.models import AuditEvent

from ..unkeyed_chain import unkeyed_hash

AUDIT_KEY = "the audit key of the upgraded server, 0123456789abcdef"


@pytest.fixture
def legacy(blank_url, tmp_path):
    """An app whose database stands at 0007, before the chain was keyed."""
    app = create_app(
        {"TESTING": True, "DATABASE_URL": blank_url, "SECRET_KEY": "test", "AUDIT_KEY": AUDIT_KEY},
        instance_path=str(tmp_path / "instance"),
    )
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0007")
        yield app
        db.session.remove()
        db.engine.dispose()


def _log_the_old_way(count: int) -> list[dict]:
    """Append `count` events as revision 0005's code did: plain SHA-256, no key."""
    events, previous = [], audit.GENESIS
    start = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    for number in range(1, count + 1):
        event = dict(
            occurred_at=start + timedelta(minutes=number),
            actor_id=None,
            actor_name="Rosa Lindqvist",
            action="evidence.accepted",
            subject_type="evidence_item",
            subject_id=number,
            enrolment_id=1,
            before=audit.canonical_json({"status": "submitted"}),
            after=audit.canonical_json({"status": "accepted"}),
            previous_hash=previous,
        )
        event["hash"] = previous = unkeyed_hash(SimpleNamespace(**event))
        events.append(event)
    # Today's table, minus the key_id that 0007 lacks (it has no default, so it is left out).
    db.session.execute(AuditEvent.__table__.insert(), events)
    db.session.commit()
    return events


def _revision() -> str:
    return db.session.scalar(text("SELECT version_num FROM alembic_version"))


def test_upgrade_keys_a_legacy_trail_and_records_its_old_newest_hash(legacy):
    old = _log_the_old_way(3)
    upgrade(directory=MIGRATIONS)
    db.session.remove()

    keyring = audit.current_keyring()
    assert audit.verify(db.session).ok
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.id for e in events] == [1, 2, 3, 4] and {e.key_id for e in events} == {keyring.current_id}
    assert [e.actor_name for e in events[:3]] == ["Rosa Lindqvist"] * 3  # the fields are kept
    assert all(e.hash != o["hash"] for e, o in zip(events, old, strict=False))  # ... and re-hashed
    keying = events[3]
    assert (keying.action, keying.subject_type, keying.actor_id) == ("audit.chain_keyed", "audit_trail", None)
    assert json.loads(keying.before) == {"events": 3, "newest_hash": old[-1]["hash"]}
    assert json.loads(keying.after) == {"key_id": keyring.current_id}

    # Without the key the upgrade used, nothing verifies.
    wrong = audit.Keyring.of("another key entirely, 0123456789abcdef")
    assert len(audit.verify(db.session, wrong).problems) == 4


def test_downgrade_restores_the_plain_sha256_chain(legacy):
    _log_the_old_way(3)
    upgrade(directory=MIGRATIONS)
    downgrade(directory=MIGRATIONS, revision="0007")
    db.session.remove()
    assert "key_id" not in {c["name"] for c in inspect(db.engine).get_columns("audit_events")}
    rows = db.session.execute(text("SELECT * FROM audit_events ORDER BY id")).all()
    assert len(rows) == 4
    previous = audit.GENESIS
    for row in rows:
        as_utc = SimpleNamespace(**row._asdict() | {"occurred_at": _utc(row.occurred_at)})
        assert row.previous_hash == previous and unkeyed_hash(as_utc) == row.hash
        previous = row.hash


def _utc(moment) -> datetime:
    moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def test_upgrade_refuses_to_rehash_an_altered_legacy_trail(legacy, capfd):
    old = _log_the_old_way(4)
    db.session.execute(text("UPDATE audit_events SET after = '{}' WHERE id = 2"))
    db.session.commit()
    with pytest.raises(SystemExit) as stopped:  # `portfolio db upgrade` exits 1 with the message
        upgrade(directory=MIGRATIONS)
    assert stopped.value.code == 1
    assert "The audit trail does not verify (events 2), so it is not re-hashed" in capfd.readouterr().err
    db.session.remove()
    assert _revision() == "0007"
    assert "key_id" not in {c["name"] for c in inspect(db.engine).get_columns("audit_events")}
    assert db.session.scalars(text("SELECT hash FROM audit_events ORDER BY id")).all() == [e["hash"] for e in old]


def test_upgrade_of_an_empty_trail_records_nothing(legacy):
    upgrade(directory=MIGRATIONS)
    db.session.remove()
    assert db.session.scalar(text("SELECT count(*) FROM audit_events")) == 0
    assert _revision() != "0007"
