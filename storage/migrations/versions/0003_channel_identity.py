"""channel identity: members' Telegram ids move to channel_accounts, evidence file ids to
evidence_channel_files

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 05:00:00

Every member's ``telegram_id`` (with their @username and the last processed update id, which are
Telegram's too) becomes a ``channel_accounts`` row; every evidence row's Telegram ``file_id`` and
``file_unique_id`` become an ``evidence_channel_files`` row. Then the old columns are dropped.
Batch mode rebuilds the tables on SQLite; on PostgreSQL it is plain ALTER TABLE.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TELEGRAM = "telegram"

# Lightweight views of the tables as they are on both sides of this migration (no models: the
# migration must keep working whatever the models become).
members = sa.table(
    "members",
    sa.column("id", sa.Integer()),
    sa.column("telegram_id", sa.BigInteger()),
    sa.column("username", sa.String(64)),
    sa.column("last_update_id", sa.BigInteger()),
    sa.column("created_at", sa.DateTime()),
)
accounts = sa.table(
    "channel_accounts",
    sa.column("member_id", sa.Integer()),
    sa.column("channel", sa.String(16)),
    sa.column("external_id", sa.String(64)),
    sa.column("username", sa.String(64)),
    sa.column("last_update_id", sa.BigInteger()),
    sa.column("created_at", sa.DateTime()),
)
evidence = sa.table(
    "evidence",
    sa.column("id", sa.Integer()),
    sa.column("telegram_file_id", sa.String(255)),
    sa.column("telegram_unique_id", sa.String(128)),
)
files = sa.table(
    "evidence_channel_files",
    sa.column("evidence_id", sa.Integer()),
    sa.column("channel", sa.String(16)),
    sa.column("file_id", sa.String(255)),
    sa.column("file_unique_id", sa.String(128)),
)


def upgrade() -> None:
    """Create the two tables, copy the Telegram data into them, drop the old columns."""
    op.create_table(
        "channel_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("last_update_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_channel_accounts_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_accounts")),
        sa.UniqueConstraint(
            "channel", "external_id", name=op.f("uq_channel_accounts_channel_external_id")
        ),
        sa.UniqueConstraint(
            "member_id", "channel", name=op.f("uq_channel_accounts_member_id_channel")
        ),
    )
    op.create_table(
        "evidence_channel_files",
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("file_id", sa.String(length=255), nullable=True),
        sa.Column("file_unique_id", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["evidence.id"],
            name=op.f("fk_evidence_channel_files_evidence_id_evidence"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("evidence_id", "channel", name=op.f("pk_evidence_channel_files")),
    )

    op.execute(
        accounts.insert().from_select(
            ["member_id", "channel", "external_id", "username", "last_update_id", "created_at"],
            sa.select(
                members.c.id,
                sa.literal(TELEGRAM, sa.String(16)),
                sa.cast(members.c.telegram_id, sa.String(64)),
                members.c.username,
                members.c.last_update_id,
                members.c.created_at,
            ),
        )
    )
    op.execute(
        files.insert().from_select(
            ["evidence_id", "channel", "file_id", "file_unique_id"],
            sa.select(
                evidence.c.id,
                sa.literal(TELEGRAM, sa.String(16)),
                evidence.c.telegram_file_id,
                evidence.c.telegram_unique_id,
            ).where(
                sa.or_(
                    evidence.c.telegram_file_id.is_not(None),
                    evidence.c.telegram_unique_id.is_not(None),
                )
            ),
        )
    )

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_members_telegram_id"), type_="unique")
        batch_op.drop_column("telegram_id")
        batch_op.drop_column("username")
        batch_op.drop_column("last_update_id")
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_column("telegram_file_id")
        batch_op.drop_column("telegram_unique_id")


def downgrade() -> None:
    """Put the Telegram columns back, filled from the two tables, and drop the tables.

    Refused if a member has no Telegram account (joined through another channel): the old
    schema cannot hold them.
    """
    bind = op.get_bind()
    orphans = bind.scalar(
        sa.select(sa.func.count())
        .select_from(members)
        .where(
            ~sa.exists().where(accounts.c.member_id == members.c.id, accounts.c.channel == TELEGRAM)
        )
    )
    if orphans:
        raise RuntimeError(
            f"{orphans} member(s) have no Telegram account; revision 0002 cannot hold them"
        )

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("telegram_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("username", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("last_update_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("telegram_file_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("telegram_unique_id", sa.String(length=128), nullable=True))

    def account(column: sa.ColumnElement[object]) -> sa.ScalarSelect[object]:
        return (
            sa.select(column)
            .where(accounts.c.member_id == members.c.id, accounts.c.channel == TELEGRAM)
            .scalar_subquery()
        )

    op.execute(
        members.update().values(
            telegram_id=account(sa.cast(accounts.c.external_id, sa.BigInteger())),
            username=account(accounts.c.username),
            last_update_id=account(accounts.c.last_update_id),
        )
    )

    def channel_file(column: sa.ColumnElement[object]) -> sa.ScalarSelect[object]:
        return (
            sa.select(column)
            .where(files.c.evidence_id == evidence.c.id, files.c.channel == TELEGRAM)
            .scalar_subquery()
        )

    op.execute(
        evidence.update().values(
            telegram_file_id=channel_file(files.c.file_id),
            telegram_unique_id=channel_file(files.c.file_unique_id),
        )
    )

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.alter_column("telegram_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_members_telegram_id"), ["telegram_id"])
    op.drop_table("evidence_channel_files")
    op.drop_table("channel_accounts")
