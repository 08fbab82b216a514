"""resubmissions: each item's submission count, and referred items keep their reviewer

Adds `evidence_items.attempt`, the number of times the item has been submitted, counted from its
status history for the items there are. A referred item's reviewer becomes the tutor who
referred it, so that its resubmission goes back to them, as it will for new referrals.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 19:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("evidence_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt", sa.Integer(), server_default="0", nullable=False))
    op.execute(
        """
        UPDATE evidence_items SET attempt = (
            SELECT count(*) FROM evidence_status_changes AS change
            WHERE change.item_id = evidence_items.id AND change.to_status = 'submitted'
        )
        """
    )
    op.execute(
        """
        UPDATE evidence_items SET reviewer_id = (
            SELECT change.changed_by_id FROM evidence_status_changes AS change
            WHERE change.item_id = evidence_items.id AND change.to_status = 'referred'
            ORDER BY change.id DESC LIMIT 1
        ), review_started_at = NULL
        WHERE status = 'referred'
        """
    )


def downgrade():
    op.execute("UPDATE evidence_items SET reviewer_id = NULL WHERE status = 'referred'")
    with op.batch_alter_table("evidence_items", schema=None) as batch_op:
        batch_op.drop_column("attempt")
