"""activities.version for optimistic concurrency of amendments

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 04:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Existing reports start at version 1."""
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )


def downgrade() -> None:
    """Drop the version column."""
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_column("version")
