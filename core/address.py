"""Where a person is reached: a channel and that channel's id of their chat, as text.

Every layer names a chat this way (the outbox's rows, the chat lock, the sender's messengers,
the conversation port), so a second channel needs no new column or key: its ids are text like
Telegram's, whatever their shape.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.enums import Channel


@dataclass(frozen=True)
class Address:
    """A chat on a channel: ``channel`` and the channel's own id of it (``external_id``)."""

    channel: Channel
    external_id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.external_id}"
