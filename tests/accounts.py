"""Members on Telegram, as the tests make and find them: a member is reached through a channel
account (``channel_accounts``), so these spell the Telegram one by its integer id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select

from core.address import Address
from core.enums import Channel
from storage.models import ChannelAccount, Member


def tg(chat_id: int | str) -> Address:
    """The Telegram chat (a private chat's id is its user's id) as an address."""
    return Address(Channel.TELEGRAM, str(chat_id))


def telegram_member(telegram_user: int, **fields: Any) -> Member:
    """A new member with one Telegram account (``fields``: the member's columns)."""
    account = ChannelAccount(channel=Channel.TELEGRAM, external_id=str(telegram_user))
    return Member(accounts=[account], **fields)


def at_telegram(telegram_user: int | str) -> ColumnElement[bool]:
    """``WHERE`` the member is the one with this Telegram account."""
    owner = select(ChannelAccount.member_id).where(
        ChannelAccount.channel == Channel.TELEGRAM,
        ChannelAccount.external_id == str(telegram_user),
    )
    return Member.id == owner.scalar_subquery()
