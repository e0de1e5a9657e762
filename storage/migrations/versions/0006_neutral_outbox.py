"""neutral outbox: a row's chat is (channel, address as text), its sent message a text ref

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 05:00:00

``outbox.chat_id`` (a Telegram chat id, BigInteger) becomes ``channel`` + ``address`` (the
channel's id of the chat, as text, like ``channel_accounts.external_id``), and
``outbox.telegram_message_id`` becomes ``message_ref`` (the channel's id of the message sent,
as text). Every existing row was Telegram's. A second channel then needs no migration of this
shape: its ids are text whatever they look like. Batch mode rebuilds the table on SQLite; on
PostgreSQL it is plain ALTER TABLE.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TELEGRAM = "telegram"

# A lightweight view of the table as it is on both sides of this migration (no models: the
# migration must keep working whatever the models become).
outbox = sa.table(
    "outbox",
    sa.column("chat_id", sa.BigInteger()),
    sa.column("telegram_message_id", sa.BigInteger()),
    sa.column("channel", sa.String(16)),
    sa.column("address", sa.String(64)),
    sa.column("message_ref", sa.String(64)),
)


def upgrade() -> None:
    """Add the neutral columns, fill them from the Telegram ones, drop those."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("address", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("message_ref", sa.String(length=64), nullable=True))
    op.execute(
        outbox.update().values(
            channel=sa.literal(TELEGRAM, sa.String(16)),
            address=sa.cast(outbox.c.chat_id, sa.String(64)),
            message_ref=sa.cast(outbox.c.telegram_message_id, sa.String(64)),
        )
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("channel", existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column("address", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("chat_id")
        batch_op.drop_column("telegram_message_id")


def downgrade() -> None:
    """Put the Telegram columns back, filled from the neutral ones, and drop those.

    Refused if a row belongs to another channel: revision 0005 can only hold Telegram's
    integer chat ids.
    """
    bind = op.get_bind()
    others = bind.scalar(
        sa.select(sa.func.count()).select_from(outbox).where(outbox.c.channel != TELEGRAM)
    )
    if others:
        raise RuntimeError(
            f"{others} outbox row(s) are for another channel than Telegram; "
            "revision 0005 cannot hold them"
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("telegram_message_id", sa.BigInteger(), nullable=True))
    op.execute(
        outbox.update().values(
            chat_id=sa.cast(outbox.c.address, sa.BigInteger()),
            telegram_message_id=sa.cast(outbox.c.message_ref, sa.BigInteger()),
        )
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("chat_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_column("channel")
        batch_op.drop_column("address")
        batch_op.drop_column("message_ref")
