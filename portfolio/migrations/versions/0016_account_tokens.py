"""single-use emailed links (password reset, invitation, email change) and the count of those asked for

Adds `account_tokens` (the SHA-256 of each link's token, its purpose, user, expiry and use) and
`link_requests` (links asked for, by keyed hashes of the account and the network address, for the
limits on how many may be sent). Existing accounts keep their passwords.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-03 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "account_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=14), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("new_email", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_account_tokens_user_id_users")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_account_tokens_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_tokens_token_hash")),
    )
    op.create_index("ix_account_tokens_user_id_purpose", "account_tokens", ["user_id", "purpose"])

    op.create_table(
        "link_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_key", sa.String(length=64), nullable=False),
        sa.Column("address_key", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_link_requests_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_requests")),
    )
    op.create_index("ix_link_requests_account_key_requested_at", "link_requests", ["account_key", "requested_at"])
    op.create_index("ix_link_requests_address_key_requested_at", "link_requests", ["address_key", "requested_at"])
    op.create_index(op.f("ix_link_requests_user_id"), "link_requests", ["user_id"])
    op.create_index(op.f("ix_link_requests_requested_at"), "link_requests", ["requested_at"])


def downgrade():
    op.drop_table("link_requests")
    op.drop_table("account_tokens")
