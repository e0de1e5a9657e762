"""``my_chat_member`` in a private chat: the user blocked (``kicked``) or unblocked (``member``)
the bot. The rule (mark unreachable / reachable, queue the missed deliveries again) is
``scheduler.reachability``; this only reads the update.

Not wrapped in ``channels.telegram.unit.unit_of_work``: there is nothing to answer (a blocked user
cannot be written to), and a re-delivered update must not re-ask a question; applying the same
status twice changes nothing, so a re-delivery after a crash is harmless.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from channels.telegram.incoming import address_of
from core.settings import Settings
from scheduler.reachability import chat_status_changed
from scheduler.rows import Timing
from storage.db import Database
from storage.models import utcnow

log = logging.getLogger(__name__)


async def chat_member_changed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot's status in a private chat changed: record whether the user can be reached."""
    change = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE:
        return  # the bot works in private chats only
    db: Database = context.bot_data["db"]
    scheduler = context.bot_data.get("scheduler")
    if scheduler is not None:  # the scheduler's clock stamps the outbox rows
        now, timing = scheduler.clock.now(), scheduler.timing
    else:
        settings: Settings = context.bot_data["settings"]
        now, timing = utcnow(), Timing.from_settings(settings)
    async with db.session() as session:
        result = await chat_status_changed(
            session, address_of(change.from_user.id), change.new_chat_member.status, now, timing
        )
    log.info(
        "update %s: member %s reachable=%s, %d missed delivery row(s) queued again",
        update.update_id,
        result.member_id,
        result.reachable,
        result.requeued,
    )
