"""what each gateway item looked at when the assessor decided it

Adds `fingerprint` to gateway item decisions: a SHA-256 of the inputs of the check (or of the
declarations) at the time of the decision, so that a referred item shows as referred until
something it looks at changes. Decisions made before have none and are compared by the
portfolio's fingerprint instead.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-09 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("gateway_item_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("gateway_item_decisions", schema=None) as batch_op:
        batch_op.drop_column("fingerprint")
