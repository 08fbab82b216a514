"""file readings: a PDF's pages drawn as images with their text, an office or text file's text

Adds `file_readings` (one per stored content, by its SHA-256) and `file_reading_pages` (each
drawn page, its PNG kept in the evidence store). A job makes them; files stored before are read
by the periodic catch-up job.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 19:15:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "file_readings",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_cut", sa.Boolean(), nullable=False),
        sa.Column("problem", sa.String(length=300), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "file_reading_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reading_sha256", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["reading_sha256"], ["file_readings.sha256"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reading_sha256", "number", name="uq_file_reading_pages_number"),
    )
    with op.batch_alter_table("file_reading_pages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_file_reading_pages_image_sha256"), ["image_sha256"], unique=False)


def downgrade():
    op.drop_table("file_reading_pages")
    op.drop_table("file_readings")
