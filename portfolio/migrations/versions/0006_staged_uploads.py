"""staged uploads kept across a failed form, and the sweep's marks of unreferenced stored files

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 21:00:00

`staged_uploads` holds files that passed their checks on a form that failed for another reason,
bound to a user and a browser session, until the form is saved or they expire. `unreferenced_files`
records since when the sweep (`portfolio evidence sweep`) has seen a stored file that nothing
refers to; the file is deleted only after the grace period.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "staged_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("browser_key", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("crc32", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("staged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_staged_uploads_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staged_uploads")),
    )
    with op.batch_alter_table("staged_uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staged_uploads_sha256"), ["sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_staged_uploads_staged_at"), ["staged_at"], unique=False)
        batch_op.create_index("ix_staged_uploads_user_id_browser_key", ["user_id", "browser_key"], unique=False)

    op.create_table(
        "unreferenced_files",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_unreferenced_files")),
    )


def downgrade():
    op.drop_table("unreferenced_files")
    with op.batch_alter_table("staged_uploads", schema=None) as batch_op:
        batch_op.drop_index("ix_staged_uploads_user_id_browser_key")
        batch_op.drop_index(batch_op.f("ix_staged_uploads_staged_at"))
        batch_op.drop_index(batch_op.f("ix_staged_uploads_sha256"))
    op.drop_table("staged_uploads")
