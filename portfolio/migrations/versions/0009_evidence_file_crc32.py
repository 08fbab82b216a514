"""CRC-32 of every evidence file (placeholder)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 21:00:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
