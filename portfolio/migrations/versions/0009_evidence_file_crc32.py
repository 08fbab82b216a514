"""CRC-32 of every evidence file, beside its SHA-256, for the ZIP export's local headers

Adds evidence_files.crc32 and fills it in by reading each stored file from the evidence store
(the application's: `portfolio db upgrade` runs in its app context). A file that is missing, or
whose bytes no longer have its SHA-256, is left NULL; the export reads such a file before it
sends anything, and refuses it if it is still missing or altered.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 21:00:00

"""

import hashlib
import zlib

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

CHUNK_SIZE = 1 << 20
# The table as this migration knows it, so that it does not change when the models do.
evidence_files = sa.table("evidence_files", sa.column("sha256", sa.String), sa.column("crc32", sa.BigInteger))


def upgrade():
    with op.batch_alter_table("evidence_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("crc32", sa.BigInteger(), nullable=True))
    store = current_app.extensions["evidence_store"]
    connection = op.get_bind()
    for sha256 in connection.scalars(sa.select(evidence_files.c.sha256).distinct()).all():
        crc32 = _crc32_if_intact(store, sha256)
        if crc32 is not None:
            connection.execute(sa.update(evidence_files).where(evidence_files.c.sha256 == sha256).values(crc32=crc32))


def downgrade():
    with op.batch_alter_table("evidence_files", schema=None) as batch_op:
        batch_op.drop_column("crc32")


def _crc32_if_intact(store, sha256: str) -> int | None:
    """The stored file's CRC-32, or None if it is missing or its bytes no longer have this SHA-256."""
    digest, crc32 = hashlib.sha256(), 0
    try:
        with store.open(sha256) as stream:
            while chunk := stream.read(CHUNK_SIZE):
                digest.update(chunk)
                crc32 = zlib.crc32(chunk, crc32)
    except (KeyError, ValueError):  # not in the store, or not a hash the store could hold
        return None
    return crc32 if digest.hexdigest() == sha256 else None
