"""digest: members.daily_digest (a district admin's 每日汇总 instead of every report)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 05:25:00

Every existing member keeps 逐条推送 (every report as it arrives), the default.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column, false for everyone."""
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("daily_digest", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    """Drop the column (those who chose the digest get every report again)."""
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("daily_digest")
