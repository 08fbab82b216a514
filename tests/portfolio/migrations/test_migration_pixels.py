"""Migration 0011: each stored image's pixels, read from its header in the evidence store."""

from __future__ import annotations

import hashlib

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from portfolio import MIGRATIONS
from portfolio.core.storage import evidence_store
from portfolio.extensions import db
from tests.filestore import samples
from tests.helpers import PDF_BYTES


def test_the_migration_fills_in_each_images_pixels_and_leaves_others_empty(world):
    enrolment = world.enrolment()
    wide, gone = samples.png(30, 20), samples.png(7, 3)
    world.evidence(enrolment, files={"wide.png": wide, "copy.png": wide, "gone.png": gone, "plan.pdf": PDF_BYTES})
    db.session.commit()
    evidence_store()._path(hashlib.sha256(gone).hexdigest()).unlink()
    db.session.remove()
    db.engine.dispose()  # the migration alters the table: no connection of the test may hold it
    try:
        downgrade(directory=MIGRATIONS, revision="0010")
        assert "pixels" not in {column["name"] for column in inspect(db.engine).get_columns("evidence_files")}
    finally:
        upgrade(directory=MIGRATIONS)
    with db.engine.connect() as connection:
        found = dict(connection.execute(text("SELECT display_name, pixels FROM evidence_files")).all())
    assert found == {"wide.png": 600, "copy.png": 600, "gone.png": None, "plan.pdf": None}
