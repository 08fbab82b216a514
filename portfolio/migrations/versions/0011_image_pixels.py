"""an image's pixels recorded with its file, so that pages need not read the store

Adds `pixels` (width times height) to evidence_files and staged_uploads, and fills it in for the
images already stored by reading each one's header from the evidence store (the application's:
`portfolio db upgrade` runs in its app context). A file that is missing or unreadable stays NULL,
and pages read its header as before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 05:20:00

"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from filestore import file_type, image_size

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = ("evidence_files", "staged_uploads")


def upgrade():
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("pixels", sa.BigInteger(), nullable=True))
    store = current_app.extensions["evidence_store"]
    connection = op.get_bind()
    for name in TABLES:
        # The table as this migration knows it, so that it does not change when the models do.
        table = sa.table(name, sa.column("sha256", sa.String), sa.column("media_type", sa.String), sa.column("pixels"))
        images = connection.execute(sa.select(table.c.sha256, table.c.media_type).distinct()).all()
        for sha256, media_type in images:
            pixels = _pixels(store, sha256, media_type)
            if pixels is not None:
                connection.execute(sa.update(table).where(table.c.sha256 == sha256).values(pixels=pixels))


def downgrade():
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column("pixels")


def _pixels(store, sha256: str, media_type: str) -> int | None:
    try:
        kind = file_type(media_type)
        if not kind.previewable:
            return None
        with store.open(sha256) as stream:
            size = image_size(stream, kind.key)
    except (KeyError, ValueError):  # not a kind we know, not in the store, or not a hash it could hold
        return None
    return None if size is None else size[0] * size[1]
