"""exports made by jobs; the job queue's schema (procrastinate) on PostgreSQL

Adds `exports`: one row per export asked for on the web (enrolment, format, who, when, the
portfolio's fingerprint, the key of its content, status, file name and size, and why it failed),
with at most one pending per enrolment and format.

On PostgreSQL it also creates procrastinate's tables and functions, from the procrastinate
release the project pins (pyproject.toml): moving to a newer release means a migration that
applies that release's own SQL migrations (`procrastinate.schema.SchemaManager.get_migrations_path()`).
SQLite runs jobs in-process and needs no schema.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 05:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


# Everything procrastinate's schema made: its tables, then its functions and types.
DROP_PROCRASTINATE = """
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DO $$ DECLARE f record; BEGIN
    FOR f IN SELECT oid::regprocedure AS signature FROM pg_proc WHERE proname LIKE 'procrastinate%' LOOP
        EXECUTE 'DROP FUNCTION IF EXISTS ' || f.signature || ' CASCADE';
    END LOOP;
END $$;
DROP TYPE IF EXISTS procrastinate_job_status, procrastinate_job_event_type, procrastinate_job_to_defer_v1 CASCADE;
"""


def upgrade():
    op.create_table(
        "exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=7), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("content_key", sa.String(length=64), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolments.id"], name=op.f("fk_exports_enrolment_id_enrolments")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"], name=op.f("fk_exports_requested_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exports")),
    )
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exports_status"), ["status"], unique=False)
        batch_op.create_index(
            "ix_exports_enrolment_id_format_content_key", ["enrolment_id", "format", "content_key"], unique=False
        )
        batch_op.create_index(
            "uq_exports_one_pending",
            ["enrolment_id", "format"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
    if op.get_bind().dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        # Straight to psycopg: the schema is many statements, with colons and percent signs that
        # SQLAlchemy's text() would read as parameters.
        op.get_bind().connection.driver_connection.execute(SchemaManager.get_schema())


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.get_bind().connection.driver_connection.execute(DROP_PROCRASTINATE)
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.drop_index("uq_exports_one_pending")
        batch_op.drop_index("ix_exports_enrolment_id_format_content_key")
        batch_op.drop_index(batch_op.f("ix_exports_status"))
    op.drop_table("exports")
