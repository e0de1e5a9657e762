"""link codes: one-time codes that join a member's account on another channel

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 03:30:00

A person may hold a Telegram and a DingTalk account on one membership: /settings' 连接钉钉 /
连接 Telegram makes a short code, valid minutes and once, that the other channel's robot
takes as ``/start CODE`` (services.members.link_account). No existing row changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The table of link codes, empty."""
    op.create_table(
        "link_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_link_codes_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_link_codes_code")),
    )


def downgrade() -> None:
    """Drop the table (unused codes stop working; linked accounts stay linked)."""
    op.drop_table("link_codes")
