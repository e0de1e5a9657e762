"""One event as one unit of work, in no channel's terms: one database session, the chat's
lock, the member, the handler, the commit — and nothing sent yet.

A front (``channels/telegram/unit.py``; the in-memory channel in ``tests/``) calls
:func:`run_turn` with the event and performs the returned turn's outputs after it returns,
that is after the commit: a user never sees the next question for an answer that was not
stored. An event that comes a second time (Telegram re-delivers unconfirmed updates after a
crash) is recognised by its ``ordinal`` and not applied again: the current question is asked
again instead.
"""

from __future__ import annotations

import logging

from core.settings import Settings
from handlers.common import Handler, Turn
from handlers.port import Front, Incoming
from storage.db import Database
from storage.locks import lock_chat
from storage.members import actor_of_loaded, load_for_update, note_applied
from storage.models import ChannelAccount

log = logging.getLogger(__name__)


async def run_turn(
    handler: Handler,
    incoming: Incoming,
    *,
    front: Front,
    db: Database,
    settings: Settings,
    ordinal: int,
    reprompt: Handler,
) -> Turn:
    """Run ``handler`` on ``incoming`` and commit; the turn, whose outputs are still to send.

    ``ordinal``: the event's number, growing within a chat (Telegram's update id); an event
    whose number is not above the last one applied for the sender runs ``reprompt`` instead.
    """
    async with db.session() as session:
        # Several instances: one chat's updates take turns, so the check below sees the
        # last one applied by any of them (PostgreSQL; a no-op on SQLite).
        await lock_chat(session, incoming.sender)
        # One query: member, accounts, roles, conversation state and its activity.
        member = await load_for_update(session, incoming.sender)
        account = member.account(incoming.sender.channel) if member is not None else None
        fresh = _is_fresh(account, ordinal)
        if not fresh:
            # Processed before a crash, but perhaps never answered: ask the current
            # question again instead of applying the answer twice.
            log.info("re-delivered update %s: re-asking", ordinal)
            handler = reprompt
        actor = actor_of_loaded(member)
        # Telegram has no official Chinese interface, so most of our users run it in
        # English: the client's language says nothing about theirs. Chinese until they
        # choose in /settings.
        lang = member.language if member else "zh"
        turn = Turn(incoming, front, db, session, settings, member, actor, lang)
        await handler(turn)
        # Last, in the commit of the effects: SQLite's write transaction starts at the
        # handler's first write, after its reads and downloads. Never lowered: several
        # updates of a chat may come again after a crash, and each must be recognised.
        if member is not None and account is not None:
            note_applied(session, member, account, ordinal if fresh else None)
    return turn


def _is_fresh(account: ChannelAccount | None, ordinal: int) -> bool:
    """Whether this event was not applied before (ordinals only grow within a chat)."""
    return account is None or account.last_update_id is None or ordinal > account.last_update_id
