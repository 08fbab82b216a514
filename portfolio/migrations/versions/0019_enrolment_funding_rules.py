"""what an enrolment's funding rules need: weekly hours, prior learning, a duration exception

Adds to `enrolments` the contracted weekly hours (for the off-the-job minimum of starts before
August 2025), the off-the-job hours recognised as prior learning, the funding rules' reason for a
planned duration below their minimum, and who agreed to leave English and maths out. Enrolments
made before have no weekly hours (full-time is assumed), no prior learning and no exception.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 11:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("english_maths_agreed_by", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("contracted_weekly_hours", sa.Numeric(4, 1), nullable=True))
        batch_op.add_column(sa.Column("prior_learning_otj_hours", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("duration_exception", sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_column("duration_exception")
        batch_op.drop_column("prior_learning_otj_hours")
        batch_op.drop_column("contracted_weekly_hours")
        batch_op.drop_column("english_maths_agreed_by")
