"""breaks in learning: their dates, reasons and returns, and what they pause

Adds `learning_breaks` (a break's start, expected return and reason; on the return, its date and
the planned end before and after it moved), and to `enrolments` the days of the breaks that have
ended, the start of one under way and the latest return, which the off-the-job pace and the
progress review schedule read. Enrolments on a break before this have no break recorded.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 13:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "learning_breaks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("expected_return_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("returned_on", sa.Date(), nullable=True),
        sa.Column("planned_end_before", sa.Date(), nullable=True),
        sa.Column("planned_end_after", sa.Date(), nullable=True),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("returned_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolments.id"]),
        sa.ForeignKeyConstraint(["started_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["returned_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("learning_breaks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learning_breaks_enrolment_id"), ["enrolment_id"], unique=False)
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_days", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("paused_since", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("resumed_on", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_column("resumed_on")
        batch_op.drop_column("paused_since")
        batch_op.drop_column("paused_days")
    with op.batch_alter_table("learning_breaks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learning_breaks_enrolment_id"))
    op.drop_table("learning_breaks")
