"""a revision number per portfolio, and the state each export was made in

Adds `portfolio_revision` to enrolments (a session hook raises it with every change to what an
export shows) and `portfolio_state` to exports (the revision, the day and the export design it was
made for), so that asking again for an unchanged portfolio need not read it all. Exports made
before have no state and are matched by their content key, as before.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("portfolio_revision", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("portfolio_state", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.drop_column("portfolio_state")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_column("portfolio_revision")
