"""server-side sign-in sessions; a sign-in throttle keyed by hashes, counted atomically

Adds `sign_in_sessions` (one row per signed-in browser: token hash, user, created, last seen,
ended), `sign_in_throttles` (failed password checks and the time before which no password is
checked, per keyed hash of an account or a network address) and `sign_in_address_accounts`
(which accounts failed from which address, for the limit on accounts tried per address).
Drops `sign_in_attempts`, which kept typed email addresses in clear, and `users.session_version`,
which the session rows replace. The throttle starts empty; every user signs in again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sign_in_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sign_in_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sign_in_sessions_token_hash")),
    )
    with op.batch_alter_table("sign_in_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_sessions_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sign_in_sessions_created_at"), ["created_at"], unique=False)

    op.create_table(
        "sign_in_throttles",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttles")),
    )
    with op.batch_alter_table("sign_in_throttles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_throttles_last_failure_at"), ["last_failure_at"], unique=False)

    op.create_table(
        "sign_in_address_accounts",
        sa.Column("address_key", sa.String(length=64), nullable=False),
        sa.Column("account_key", sa.String(length=64), nullable=False),
        sa.Column("tried_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address_key", "account_key", name=op.f("pk_sign_in_address_accounts")),
    )
    with op.batch_alter_table("sign_in_address_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_address_accounts_tried_at"), ["tried_at"], unique=False)

    with op.batch_alter_table("sign_in_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_sign_in_attempts_email_at")
        batch_op.drop_index("ix_sign_in_attempts_address_at")
    op.drop_table("sign_in_attempts")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_version")


def downgrade():
    # Sessions cannot be carried back: every user signs in again.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="1"))

    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempts")),
    )
    with op.batch_alter_table("sign_in_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_sign_in_attempts_address_at", ["address", "attempted_at"], unique=False)
        batch_op.create_index("ix_sign_in_attempts_email_at", ["email", "attempted_at"], unique=False)

    with op.batch_alter_table("sign_in_address_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_address_accounts_tried_at"))
    op.drop_table("sign_in_address_accounts")
    with op.batch_alter_table("sign_in_throttles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_throttles_last_failure_at"))
    op.drop_table("sign_in_throttles")
    with op.batch_alter_table("sign_in_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_sessions_created_at"))
        batch_op.drop_index(batch_op.f("ix_sign_in_sessions_user_id"))
    op.drop_table("sign_in_sessions")
