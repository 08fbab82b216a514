"""skills scans with the prior learning they recognise, training plans, and their signatures

Adds `skills_scans` (numbered versions: the apprentice's ratings, the employer's confirmation, the
prior learning the tutor recognises in hours and months, and what agreeing it did to the
enrolment), `skills_scan_ratings`, `prior_learning`, `training_plans` (numbered versions, with the
English and maths plan), `planned_activities` (the off-the-job training a plan sets out), and
`agreement_signatures`, one table for the three parties' signatures of either document, each with
exactly what was signed (canonical JSON) and its fingerprint. Enrolments from before this have no
scan or plan recorded.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-10 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def _index(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade():
    op.create_table(
        "skills_scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("rated_by_id", sa.Integer(), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("prior_learning_hours", sa.Integer(), nullable=False),
        sa.Column("prior_learning_months", sa.Integer(), nullable=False),
        sa.Column("prior_learning_summary", sa.Text(), nullable=False),
        sa.Column("prior_learning_by_id", sa.Integer(), nullable=True),
        sa.Column("prior_learning_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_otj_before", sa.Integer(), nullable=True),
        sa.Column("planned_otj_after", sa.Integer(), nullable=True),
        sa.Column("planned_end_before", sa.Date(), nullable=True),
        sa.Column("planned_end_after", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolments.id"]),
        sa.ForeignKeyConstraint(["rated_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["confirmed_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["prior_learning_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("enrolment_id", "number", name="uq_skills_scans_enrolment_number"),
    )
    _index("skills_scans", "enrolment_id")
    op.create_table(
        "skills_scan_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("skills_scan_id", sa.Integer(), nullable=False),
        sa.Column("criterion_code", sa.String(length=10), nullable=False),
        sa.Column("rating", sa.Enum("new", "some", "confident", name="scanrating", native_enum=False), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "employer_rating", sa.Enum("new", "some", "confident", name="scanrating", native_enum=False), nullable=True
        ),
        sa.Column("employer_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolments.id"]),
        sa.ForeignKeyConstraint(["skills_scan_id"], ["skills_scans.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("skills_scan_id", "criterion_code", name="uq_skills_scan_ratings_scan_code"),
    )
    _index("skills_scan_ratings", "enrolment_id", "skills_scan_id")
    op.create_table(
        "prior_learning",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("skills_scan_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolments.id"]),
        sa.ForeignKeyConstraint(["skills_scan_id"], ["skills_scans.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("prior_learning", "enrolment_id", "skills_scan_id")
    op.create_table(
        "training_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("english_maths_plan", sa.Text(), nullable=False),
        sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolments.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("enrolment_id", "number", name="uq_training_plans_enrolment_number"),
    )
    _index("training_plans", "enrolment_id")
    op.create_table(
        "planned_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("training_plan_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("criteria", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolments.id"]),
        sa.ForeignKeyConstraint(["training_plan_id"], ["training_plans.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("planned_activities", "enrolment_id", "training_plan_id")
    op.create_table(
        "agreement_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("skills_scan_id", sa.Integer(), nullable=True),
        sa.Column("training_plan_id", sa.Integer(), nullable=True),
        sa.Column(
            "signer", sa.Enum("apprentice", "employer", "provider", name="signer", native_enum=False), nullable=False
        ),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(skills_scan_id IS NULL) <> (training_plan_id IS NULL)", name=op.f("ck_agreement_signatures_one_document")
        ),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolments.id"]),
        sa.ForeignKeyConstraint(["skills_scan_id"], ["skills_scans.id"]),
        sa.ForeignKeyConstraint(["training_plan_id"], ["training_plans.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("skills_scan_id", "signer", name="uq_agreement_signatures_scan_signer"),
        sa.UniqueConstraint("training_plan_id", "signer", name="uq_agreement_signatures_plan_signer"),
    )
    _index("agreement_signatures", "enrolment_id", "skills_scan_id", "training_plan_id")


def downgrade():
    for table in (
        "agreement_signatures",
        "planned_activities",
        "training_plans",
        "prior_learning",
        "skills_scan_ratings",
        "skills_scans",
    ):
        op.drop_table(table)
