"""decisions per criterion: a reviewer accepts or refers each criterion an item claims

Adds the latest decision to each criterion link (`decision`, `feedback`, `decided_by_id`,
`decided_at`) and `criterion_decisions`, the history of every decision per criterion. The
item-level decisions made before are carried over so that old records read the same: each
accept or refer-back of an item becomes that decision on every criterion the item claims now,
with its feedback; the newest is the link's current decision.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 19:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("criterion_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("feedback", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("decided_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_criterion_links_decided_by_id_users"), "users", ["decided_by_id"], ["id"]
        )
    op.create_table(
        "criterion_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("criterion_code", sa.String(length=10), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["evidence_items.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("criterion_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_criterion_decisions_item_id"), ["item_id"], unique=False)
    # Each past decision of an item, on each criterion it claims now. The attempt it decided is
    # the number of submissions up to that decision.
    op.execute(
        """
        INSERT INTO criterion_decisions
            (item_id, criterion_code, decision, feedback, attempt, decided_by_id, decided_at)
        SELECT change.item_id, link.criterion_code, change.to_status,
               change.note,
               (SELECT count(*) FROM evidence_status_changes AS earlier
                WHERE earlier.item_id = change.item_id AND earlier.to_status = 'submitted'
                AND earlier.id < change.id),
               change.changed_by_id, change.changed_at
        FROM evidence_status_changes AS change
        JOIN criterion_links AS link ON link.item_id = change.item_id
        WHERE change.to_status IN ('accepted', 'referred')
        ORDER BY change.id, link.id
        """
    )
    newest = """
        (SELECT {column} FROM criterion_decisions AS decided
         WHERE decided.item_id = criterion_links.item_id AND decided.criterion_code = criterion_links.criterion_code
         ORDER BY decided.id DESC LIMIT 1)
    """
    op.execute(
        "UPDATE criterion_links SET "
        + ", ".join(
            f"{column} = {newest.format(column=column)}" for column in ("decision", "decided_by_id", "decided_at")
        )
        + ", feedback = COALESCE("
        + newest.format(column="feedback")
        + ", '')"
    )


def downgrade():
    op.drop_table("criterion_decisions")
    with op.batch_alter_table("criterion_links", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_criterion_links_decided_by_id_users"), type_="foreignkey")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decided_by_id")
        batch_op.drop_column("feedback")
        batch_op.drop_column("decision")
