"""Migration 0009: the CRC-32 of every evidence file, read from the evidence store."""

from __future__ import annotations

import hashlib
import zlib

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from portfolio import MIGRATIONS
from portfolio.core.storage import evidence_store
from portfolio.extensions import db
from tests.helpers import PDF_BYTES


def _crc32_by_name() -> dict[str, int | None]:
    with db.engine.connect() as connection:
        return dict(connection.execute(text("SELECT display_name, crc32 FROM evidence_files")).all())


def test_the_migration_fills_in_each_files_crc_32_and_leaves_a_missing_or_altered_one_empty(world):
    enrolment = world.enrolment()
    kept, missing, altered = PDF_BYTES + b"%kept\n", PDF_BYTES + b"%missing\n", PDF_BYTES + b"%altered\n"
    world.evidence(enrolment, files={"kept.pdf": kept, "copy.pdf": kept, "missing.pdf": missing})
    world.evidence(enrolment, files={"altered.pdf": altered})
    db.session.commit()
    store = evidence_store()
    store._path(hashlib.sha256(missing).hexdigest()).unlink()
    store._path(hashlib.sha256(altered).hexdigest()).write_bytes(b"X" * len(altered))
    db.session.remove()
    db.engine.dispose()  # the migration alters the table: no connection of the test may hold it
    try:
        downgrade(directory=MIGRATIONS, revision="0008")
        assert "crc32" not in {column["name"] for column in inspect(db.engine).get_columns("evidence_files")}
    finally:
        upgrade(directory=MIGRATIONS)
    assert _crc32_by_name() == {
        "kept.pdf": zlib.crc32(kept),
        "copy.pdf": zlib.crc32(kept),
        "missing.pdf": None,
        "altered.pdf": None,
    }
