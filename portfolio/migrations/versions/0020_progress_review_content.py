"""what the funding rules ask a progress review to record, and why a late one is late

Adds to `progress_reviews` the actions since the last review, changes to the training plan,
concerns and changes of circumstance, and the reason a review is later than the rules ask (12
weeks after the last one, or the start). Reviews recorded before have them empty.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

COLUMNS = ("actions_since_last", "training_plan_changes", "concerns_and_changes", "late_reason")


def upgrade():
    with op.batch_alter_table("progress_reviews", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("progress_reviews", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
