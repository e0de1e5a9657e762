"""The sender: drains the outbox within the channel's limits (Telegram's, today).

* at most ``rate`` messages per second overall (25 by default, under Telegram's ~30/s), an album
  counting as one message per item, and one message per second to any one chat; with
  ``rate=None`` the messenger paces instead (the Telegram bot's broadcast lane, ``bot/lanes.py``,
  so the budget is counted once);
* rate limited (Telegram's 429 ``retry_after``): the whole sender pauses that long, the row
  waits and is retried, the attempt is not counted against it;
* transient failures (5xx, timeouts): retried with exponential backoff, up to ``max_attempts``;
* blocked (Telegram's 403) or unreachable ("chat not found"): the member is marked unreachable and
  none of their rows is tried again (talking to the bot again clears the mark; unblocking it
  also puts the report deliveries they missed back in the queue: ``scheduler.reachability``);
* a row whose moment passed while it waited (``payload.expires_at``) is dropped, not sent stale;
  during quiet hours rows are held until they end.

Several senders (processes, instances) may drain one database: each row is sent once. A sender
acts on its own read of the due rows, which another may have overtaken; so before its claim it
holds or drops a row only if the row is still as it read it, and after the claim it records the
outcome only while it still owns the row (``scheduler.outbox``). Whatever a sender decided from a
stale read then changes nothing, and a row another sender is sending, or has sent, is never put
back in the queue.

A row holds a message kind and its parameters (``scheduler.messages``); it is rendered here,
when it is sent, in the recipient's language (``scheduler.render``): a message with buttons, or
an album of evidence files that follows its card (``payload.after``). The channel is a
:class:`~scheduler.messenger.Messenger`; its outcomes are the protocol's, not Telegram's.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from core.address import Address
from core.enums import Channel
from scheduler import outbox
from scheduler.clock import Clock, SystemClock
from scheduler.messenger import (
    Album,
    Blocked,
    DeliveryError,
    Messenger,
    Picture,
    RateLimited,
    TransientFailure,
    Unreachable,
    send_picture,
)
from scheduler.reminders import is_quiet, quiet_ends
from scheduler.render import Rendered, compose
from scheduler.rows import Timing
from storage import outbox as stored_outbox
from storage.db import Database
from storage.evidence import EvidenceStorage, EvidenceStore

log = logging.getLogger(__name__)

# Dates on cards when the sender was made without the configured timing (unit tests).
DEFAULT_TIMING = Timing(tz=ZoneInfo("Asia/Shanghai"))


@dataclass
class DrainStats:
    """What one :meth:`Sender.drain` did."""

    sent: int = 0  # rows delivered
    api_messages: int = 0  # channel messages they made (an album of 5 is 5)
    retried_429: int = 0  # 429s received and honoured
    retried_other: int = 0  # 5xx / timeouts retried
    blocked: int = 0
    failed: int = 0
    expired: int = 0
    skipped: int = 0
    held_quiet: int = 0


class Pacer:
    """At most ``rate`` requests in any one-second window, spaced evenly; ``pause`` stops all.

    The window is checked at the moment of sending, so a stalled event loop (a slow commit)
    cannot release a burst of requests that were waiting for their turn.
    """

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.cap = max(int(rate), 1)
        self._window: deque[float] = deque()
        self._next = 0.0
        self._paused_until = 0.0

    async def reserve(self, count: int = 1) -> None:
        """Wait until this request (``count`` messages for an album) may go, and count it."""
        loop = asyncio.get_running_loop()
        count = min(count, self.cap)
        while True:
            now = loop.time()
            while self._window and now - self._window[0] >= 1.0:
                self._window.popleft()
            wait = max(self._paused_until - now, self._next - now)
            if len(self._window) + count > self.cap:
                wait = max(wait, self._window[0] + 1.0 - now)
            if wait <= 0:
                self._window.extend([now] * count)
                # A late request may catch up one interval; the window still caps the second.
                self._next = max(self._next, now - self.interval) + self.interval * count
                return
            await asyncio.sleep(wait)

    def pause(self, seconds: float) -> None:
        """The channel said "retry after": nobody sends until then."""
        until = asyncio.get_running_loop().time() + seconds
        self._paused_until = max(self._paused_until, until)


class Sender:
    """Drains the outbox of one database, each row through its channel's messenger; rows of a
    channel without one in ``messengers`` are left to a sender that has one."""

    def __init__(
        self,
        db: Database,
        messengers: Mapping[Channel, Messenger],
        *,
        clock: Clock | None = None,
        timing: Timing | None = None,
        evidence_dir: Path | None = None,
        evidence: EvidenceStorage | None = None,
        rate: float | None = 25.0,
        per_chat_interval: float = 1.0,
        concurrency: int = 8,
        max_attempts: int = 8,
        batch: int = 200,
    ) -> None:
        self.db = db
        self.messengers = dict(messengers)
        self.clock = clock or SystemClock()
        self.timing = timing
        self.evidence = evidence or (EvidenceStore(evidence_dir) if evidence_dir else None)
        # None: the messenger paces (Telegram's: the bot's broadcast lane, bot/lanes.py).
        self.pacer = Pacer(rate) if rate else None
        self.per_chat_interval = per_chat_interval
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.batch = batch
        self._chat_ready: dict[Address, float] = {}
        self._busy_chats: set[Address] = set()
        self._inflight: set[int] = set()
        self._claimed: set[int] = set()  # rows of _inflight this sender has claimed
        self.totals = DrainStats()

    async def drain(self, *, budget: float | None = None, wait_retries: float = 0.0) -> DrainStats:
        """Send what is due, then return.

        ``budget`` (seconds) bounds the run, for the JobQueue's periodic call. With
        ``wait_retries`` the drain also waits for rows postponed by at most that many seconds
        (a 429 or a backoff) instead of returning while they wait.
        """
        loop = asyncio.get_running_loop()
        stop_at = loop.time() + budget if budget is not None else None
        stats = DrainStats()
        tasks: set[asyncio.Task[None]] = set()

        def _within(wait: float) -> float:
            # A wait never outlasts the budget: a run that overran its interval would make the
            # JobQueue skip the next one, and what it waited for would wait longer still.
            return wait if stop_at is None else max(0.0, min(wait, stop_at - loop.time()))

        try:
            while True:
                if stop_at is not None and loop.time() >= stop_at:
                    break
                if len(tasks) >= self.concurrency:
                    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        tasks.discard(task)
                        task.result()
                    continue
                now_mono = loop.time()
                # Chats that must wait their second are left out of the query, so one admin
                # with a hundred queued cards does not hold up everybody else's messages.
                self._chat_ready = {c: t for c, t in self._chat_ready.items() if t > now_mono}
                waiting = self._busy_chats | set(self._chat_ready)
                async with self.db.session() as session:
                    now = self.clock.now()
                    rows = await outbox.due_rows(session, now, self.batch, waiting, self.messengers)
                rows = [r for r in rows if r.id not in self._inflight]
                for row in rows:
                    if len(tasks) >= self.concurrency:
                        break
                    chat = row.to
                    if chat in self._busy_chats or self._chat_ready.get(chat, 0.0) > now_mono:
                        continue
                    self._busy_chats.add(chat)
                    self._inflight.add(row.id)
                    task = asyncio.create_task(self._deliver(row, stats))
                    tasks.add(task)
                if tasks:
                    done, _ = await asyncio.wait(
                        tasks, timeout=0.05, return_when=asyncio.FIRST_COMPLETED
                    )
                    for task in done:
                        tasks.discard(task)
                        task.result()
                    continue
                if rows:
                    continue  # rows only for chats this loop just made busy
                if self._chat_ready:
                    # Is anything due for the chats that are waiting their second?
                    async with self.db.session() as db:
                        held = await outbox.due_rows(db, self.clock.now(), 1, (), self.messengers)
                    if held:
                        # Another run of this sender (the app's periodic one beside a drain)
                        # may have pruned the waiting chats while this one awaited the database.
                        ready = min(self._chat_ready.values(), default=loop.time())
                        await asyncio.sleep(_within(min(max(ready - loop.time(), 0.01), 1.0)))
                        continue
                if wait_retries <= 0:
                    break
                async with self.db.session() as session:
                    upcoming = await outbox.next_pending_at(session)
                if upcoming is None:
                    break
                delay = (upcoming - self.clock.now()).total_seconds()
                if delay > wait_retries:
                    break
                await asyncio.sleep(_within(min(max(delay, 0.01), 1.0)))
        finally:
            if tasks:
                await asyncio.gather(*tasks)
        _add(self.totals, stats)
        return stats

    # ------------------------------------------------------------------------------------

    async def _deliver(self, row: outbox.Claimable, stats: DrainStats) -> None:
        loop = asyncio.get_running_loop()
        try:
            await self._deliver_row(row, stats)
        except Exception:  # never let one row stop the drain; it is retried later
            log.exception("unexpected error while sending outbox row %s", row.key)
            now = self.clock.now()
            async with self.db.session() as session:
                # Only if it is still this sender's to: as read, or claimed and still owned.
                await outbox.postpone(
                    session,
                    row,
                    now + timedelta(minutes=1),
                    "internal error",
                    claimed=row.id in self._claimed,
                    now=now,
                )
        finally:
            self._chat_ready[row.to] = loop.time() + self.per_chat_interval
            self._busy_chats.discard(row.to)
            self._inflight.discard(row.id)
            self._claimed.discard(row.id)

    async def _deliver_row(self, row: outbox.Claimable, stats: DrainStats) -> None:
        now = self.clock.now()
        payload = row.payload
        # Until the claim, ``row`` is only what this sender read: another sender may have
        # claimed (even sent) it since. Each hold or drop below is therefore conditional on the
        # row being still as read (``claimed=False``); when it is not, it is another's now.
        async with self.db.session() as session:
            if row.unreachable:
                if await outbox.finish(
                    session, row, outbox.SKIPPED, "member unreachable", claimed=False, now=now
                ):
                    stats.skipped += 1
                return
            expires = payload.get("expires_at")
            if expires and now >= datetime.fromisoformat(expires):
                if await outbox.finish(
                    session, row, outbox.EXPIRED, "moment passed", claimed=False, now=now
                ):
                    stats.expired += 1
                return
            timing = self.timing
            if timing is not None and payload.get("quiet", True) and is_quiet(now, timing):
                held = quiet_ends(now, timing)
                if await outbox.postpone(session, row, held, claimed=False, now=now):
                    stats.held_quiet += 1
                return
            after = payload.get("after")
            if after:
                before = await stored_outbox.status_of(session, after)
                if before is not None and before != outbox.SENT:
                    if before in outbox.FINAL:
                        error = f"{after}: {before}"
                        if await outbox.finish(
                            session, row, outbox.SKIPPED, error, claimed=False, now=now
                        ):
                            stats.skipped += 1
                    else:
                        # The message it follows is on its way (perhaps with another sender,
                        # which may also send this one meanwhile): look again in a second.
                        wait = now + timedelta(seconds=1)
                        await outbox.postpone(session, row, wait, claimed=False, now=now)
                    return
            # Rendered before the claim: the claim's write then ends the transaction at once,
            # so two senders on one SQLite file hold its write lock only for an instant.
            message = await compose(
                session,
                row.kind,
                payload,
                row.language,
                self.timing or DEFAULT_TIMING,
                self.evidence,
            )
            if message is None:
                if await outbox.finish(
                    session, row, outbox.SKIPPED, "subject gone", claimed=False, now=now
                ):
                    stats.skipped += 1
                return
            if not await outbox.claim(session, row, now):
                return  # another sender took it (or held it: it is not due any more)
        # From here on this sender owns the row until its lease runs out: every outcome below
        # is recorded only while it still does (``claimed=True``).
        self._claimed.add(row.id)
        count = max(len(message.files), 1) if isinstance(message, Album) else 1
        if self.pacer is not None:
            await self.pacer.reserve(count)
        try:
            message_ref = await self._send(row.to, message)
        except RateLimited as exc:
            seconds = max(exc.retry_after, 0.5)
            if self.pacer is not None:
                self.pacer.pause(seconds)
            stats.retried_429 += 1
            await self._postpone(row, seconds, f"429 retry after {seconds:g}s", refund=True)
            return
        except Blocked as exc:
            await self._give_up(row, outbox.BLOCKED, str(exc), unreachable=True)
            stats.blocked += 1
            return
        except Unreachable as exc:
            await self._give_up(row, outbox.FAILED, str(exc), unreachable=True)
            stats.failed += 1
            return
        except TransientFailure as exc:
            if row.attempts + 1 >= self.max_attempts:
                await self._give_up(row, outbox.FAILED, str(exc))
                stats.failed += 1
                return
            delay = min(2.0 ** (row.attempts + 1), 600.0) * random.uniform(0.8, 1.2)
            stats.retried_other += 1
            await self._postpone(row, delay, str(exc))
            return
        except DeliveryError as exc:  # a permanent failure
            await self._give_up(row, outbox.FAILED, str(exc))
            stats.failed += 1
            return
        async with self.db.session() as session:
            recorded = await outbox.mark_sent(session, row, self.clock.now(), message_ref)
        if not recorded:
            # Sent, but after the lease ran out and another sender took the row over: it may
            # arrive twice (the lease's one exception); its outcome is the other's to record.
            log.warning("outbox row %s was sent after its lease ran out", row.key)
        stats.sent += 1
        stats.api_messages += count

    async def _postpone(
        self, row: outbox.Claimable, seconds: float, error: str, *, refund: bool = False
    ) -> None:
        async with self.db.session() as session:
            when = self.clock.now() + timedelta(seconds=seconds)
            await outbox.postpone(session, row, when, error, claimed=True, refund=refund)

    async def _give_up(
        self, row: outbox.Claimable, status: str, error: str, *, unreachable: bool = False
    ) -> None:
        async with self.db.session() as session:
            # The row only while this sender still owns it; the member's mark in any case:
            # what the channel said about them holds whoever sends their next message.
            await outbox.finish(session, row, status, error, claimed=True)
            if unreachable and row.member_id is not None:
                await stored_outbox.mark_unreachable(session, row.member_id)
        if unreachable:
            log.info("member %s is unreachable: %s", row.member_id, error)

    async def _send(self, address: Address, message: Rendered) -> str | None:
        """One call to the address's channel; returns its id of the (first) message."""
        messenger = self.messengers[address.channel]
        if isinstance(message, Album):
            return await messenger.send_album(address, message)
        if isinstance(message, Picture):
            return await send_picture(messenger, address, message)
        return await messenger.send_message(address, message)


def _add(total: DrainStats, part: DrainStats) -> None:
    for name in vars(part):
        setattr(total, name, getattr(total, name) + getattr(part, name))
