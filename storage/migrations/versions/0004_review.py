"""review (审核): activities.review_state, reviewed_by, reviewed_at, review_reason,
first_submitted_at

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 05:20:00

Reports submitted before review existed become pending (待审核), so the district sees them in
its queue; their first submission is taken to be their latest one (nothing older is known).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

activities = sa.table(
    "activities",
    sa.column("status", sa.String()),
    sa.column("review_state", sa.String()),
    sa.column("submitted_at", sa.DateTime()),
    sa.column("first_submitted_at", sa.DateTime()),
)


def upgrade() -> None:
    """Add the columns; existing submitted reports become pending."""
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_state", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("review_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("first_submitted_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_activities_review_state"), ["review_state"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_activities_reviewed_by_members"), "members", ["reviewed_by"], ["id"]
        )
    op.execute(
        activities.update().where(activities.c.status == "submitted").values(review_state="pending")
    )
    op.execute(
        activities.update()
        .where(activities.c.submitted_at.is_not(None))
        .values(first_submitted_at=activities.c.submitted_at)
    )


def downgrade() -> None:
    """Drop the review columns (decisions are still in the audit log)."""
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_activities_reviewed_by_members"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_activities_review_state"))
        batch_op.drop_column("first_submitted_at")
        batch_op.drop_column("review_reason")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by")
        batch_op.drop_column("review_state")
