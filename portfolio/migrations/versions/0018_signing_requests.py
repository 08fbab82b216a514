"""signing requests: witnesses without an account sign through an emailed link and code

Adds `signing_requests` (an emailed request to sign a witness testimony or the employer's part of
a progress review; only hashes of its link's token and of its one-time code are kept). A witness
signature and a progress review signature are now either a user's or a request's: their user
column may be empty, and `signing_request_id` names the request instead. Signatures made before
are users' and stay as they were.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 10:00:00

(No revision is numbered 0015: that number was kept for this one while it was written, and 0016
and 0017 went out first. A revision that has gone out is never reordered.)

"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "signing_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum("witness_testimony", "progress_review", name="signingpurpose", native_enum=False),
            nullable=False,
        ),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("witness_email", sa.String(length=254), nullable=False),
        sa.Column("witness_name_given", sa.String(length=200), nullable=False),
        sa.Column("text_to_confirm", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_attempts", sa.Integer(), nullable=False),
        sa.Column("codes_sent", sa.Integer(), nullable=False),
        sa.Column("code_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "signed", "refused", "expired", "withdrawn", name="signingstatus", native_enum=False),
            nullable=False,
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("signer_job_title", sa.String(length=200), nullable=False),
        sa.Column("signer_relationship", sa.String(length=200), nullable=False),
        sa.Column("signed_text", sa.Text(), nullable=False),
        sa.Column("signer_address", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolments.id"], name=op.f("fk_signing_requests_enrolment_id_enrolments")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["evidence_items.id"], name=op.f("fk_signing_requests_item_id_evidence_items")
        ),
        sa.ForeignKeyConstraint(
            ["review_id"], ["progress_reviews.id"], name=op.f("fk_signing_requests_review_id_progress_reviews")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_signing_requests_requested_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_requests")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_signing_requests_token_hash")),
    )
    with op.batch_alter_table("signing_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signing_requests_enrolment_id"), ["enrolment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_signing_requests_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_signing_requests_review_id"), ["review_id"], unique=False)

    with op.batch_alter_table("witness_signatures", schema=None) as batch_op:
        batch_op.alter_column("signed_by_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("signing_request_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_witness_signatures_signing_request_id_signing_requests"),
            "signing_requests",
            ["signing_request_id"],
            ["id"],
        )
    with op.batch_alter_table("review_signatures", schema=None) as batch_op:
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("signing_request_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("signer_name", sa.String(length=200), nullable=False, server_default=""))
        batch_op.create_foreign_key(
            batch_op.f("fk_review_signatures_signing_request_id_signing_requests"),
            "signing_requests",
            ["signing_request_id"],
            ["id"],
        )


def downgrade():
    # Signatures made through a request have no user to go back to: they go with their requests.
    op.execute("DELETE FROM review_signatures WHERE user_id IS NULL")
    op.execute("DELETE FROM witness_signatures WHERE signed_by_id IS NULL")
    with op.batch_alter_table("review_signatures", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_review_signatures_signing_request_id_signing_requests"), type_="foreignkey"
        )
        batch_op.drop_column("signer_name")
        batch_op.drop_column("signing_request_id")
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("witness_signatures", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_witness_signatures_signing_request_id_signing_requests"), type_="foreignkey"
        )
        batch_op.drop_column("signing_request_id")
        batch_op.alter_column("signed_by_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("signing_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signing_requests_review_id"))
        batch_op.drop_index(batch_op.f("ix_signing_requests_item_id"))
        batch_op.drop_index(batch_op.f("ix_signing_requests_enrolment_id"))
    op.drop_table("signing_requests")
