"""coverage counts and off-the-job hours stored per enrolment, for sorting the cohort table

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 11:56:23.266235

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The totals of portfolio.enrolment_totals, written out so that this migration does not change
# when the application does.
COVERAGE = """
INSERT INTO enrolment_coverage (enrolment_id, evidenced, accepted, met)
SELECT enrolment_id,
       COUNT(DISTINCT CASE WHEN level >= 1 THEN criterion_code END),
       COUNT(DISTINCT CASE WHEN level >= 2 THEN criterion_code END),
       COUNT(CASE WHEN level >= 3 THEN 1 END)
FROM (
    SELECT i.enrolment_id, l.criterion_code, CASE WHEN i.status = 'accepted' THEN 2 ELSE 1 END AS level
    FROM evidence_items i JOIN criterion_links l ON l.item_id = i.id
    WHERE i.status IN ('submitted', 'referred', 'accepted')
    UNION ALL
    SELECT j.enrolment_id, j.criterion_code, 3
    FROM criterion_judgements j
    WHERE j.met AND j.id IN (
        SELECT MAX(id) FROM criterion_judgements GROUP BY enrolment_id, criterion_code
    )
) AS levels
GROUP BY enrolment_id
"""
OTJ_HOURS = """
INSERT INTO enrolment_otj_hours (enrolment_id, logged, approved)
SELECT enrolment_id, SUM(hours), SUM(CASE WHEN status = 'approved' THEN hours ELSE 0 END)
FROM otj_entries
GROUP BY enrolment_id
"""


def upgrade():
    op.create_table(
        "enrolment_coverage",
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("evidenced", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("met", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolments.id"], name=op.f("fk_enrolment_coverage_enrolment_id_enrolments")
        ),
        sa.PrimaryKeyConstraint("enrolment_id", name=op.f("pk_enrolment_coverage")),
    )
    op.create_table(
        "enrolment_otj_hours",
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("logged", sa.Numeric(precision=9, scale=2), nullable=False),
        sa.Column("approved", sa.Numeric(precision=9, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolments.id"], name=op.f("fk_enrolment_otj_hours_enrolment_id_enrolments")
        ),
        sa.PrimaryKeyConstraint("enrolment_id", name=op.f("pk_enrolment_otj_hours")),
    )
    op.execute(COVERAGE)
    op.execute(OTJ_HOURS)


def downgrade():
    op.drop_table("enrolment_otj_hours")
    op.drop_table("enrolment_coverage")
