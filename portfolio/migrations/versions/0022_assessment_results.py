"""the assessment result: numbered attempts and the grade of each assessment method

Adds `assessment_attempts` (an attempt's number, whether it is the first, a resit or a retake,
the assessment organisation, the overall grade and whether it is a pass, who recorded it and
when) and `assessment_method_results` (each method's grade, date and note in an attempt, and
whether it was carried over from the attempt before). Enrolments completed before this have no
result recorded.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "assessment_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("first", "resit", "retake", name="attemptkind", native_enum=False), nullable=False),
        sa.Column("epao_id", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=60), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolments.id"]),
        sa.ForeignKeyConstraint(["epao_id"], ["organisations.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("enrolment_id", "number", name="uq_assessment_attempts_enrolment_number"),
    )
    with op.batch_alter_table("assessment_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessment_attempts_enrolment_id"), ["enrolment_id"], unique=False)
    op.create_table(
        "assessment_method_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("grade", sa.String(length=60), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("carried_over", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["attempt_id"], ["assessment_attempts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("attempt_id", "method", name="uq_assessment_method_results_attempt_method"),
    )
    with op.batch_alter_table("assessment_method_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessment_method_results_attempt_id"), ["attempt_id"], unique=False)


def downgrade():
    with op.batch_alter_table("assessment_method_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_method_results_attempt_id"))
    op.drop_table("assessment_method_results")
    with op.batch_alter_table("assessment_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_attempts_enrolment_id"))
    op.drop_table("assessment_attempts")
