"""the employer's verification of behaviours before the gateway to completion

Adds `behaviour_verifications` (who of the employer signed, when, and the SHA-256 of what they
signed) and `behaviour_decisions` (each behaviour's statement as signed, confirmed or not yet,
and the note). Standards whose assessment plan asks for it say so in their YAML
(`employer_verifies_behaviours`); nothing existing changes.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "behaviour_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("signed_by_id", sa.Integer(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolments.id"]),
        sa.ForeignKeyConstraint(["signed_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("behaviour_verifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_behaviour_verifications_enrolment_id"), ["enrolment_id"], unique=False)
    op.create_table(
        "behaviour_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("verification_id", sa.Integer(), nullable=False),
        sa.Column("criterion_code", sa.String(length=10), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["verification_id"], ["behaviour_verifications.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("verification_id", "criterion_code", name="uq_behaviour_decisions_verification_criterion"),
    )
    with op.batch_alter_table("behaviour_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_behaviour_decisions_verification_id"), ["verification_id"], unique=False)


def downgrade():
    with op.batch_alter_table("behaviour_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_behaviour_decisions_verification_id"))
    op.drop_table("behaviour_decisions")
    with op.batch_alter_table("behaviour_verifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_behaviour_verifications_enrolment_id"))
    op.drop_table("behaviour_verifications")
