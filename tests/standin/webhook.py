"""Webhook delivery: setWebhook, deleteWebhook, getWebhookInfo, and POSTing updates to the bot.

Once ``setWebhook`` has a URL, queued updates are POSTed to it as JSON with the secret in
``X-Telegram-Bot-Api-Secret-Token``, in update-id order: one chat's updates one after another
(the next only after the previous got a 2xx), different chats' at once, at most
``max_connections`` requests in flight. An update answered with a non-2xx status, a timeout or
a refused connection is delivered again after a short back-off, at most
:attr:`WebhookMethods.webhook_max_attempts` times (then dropped and recorded, as Telegram
eventually gives up). ``getUpdates`` fails with 409 while a webhook is set, as on Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass

import aiohttp

from tests.standin.base import StandInBase
from tests.standin.constants import DEFAULT_TOKEN
from tests.standin.types import ApiError, JSONDict, _bad

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_CONFLICT = "Conflict: can't use getUpdates method while webhook is active"


@dataclass(frozen=True)
class Delivery:
    """One POST of an update to the webhook and how it went (``status`` None: no answer)."""

    update_id: int
    chat_id: int | None
    status: int | None
    attempt: int


def update_chat(update: JSONDict) -> int | None:
    """The chat an update belongs to (its order is kept per chat)."""
    for key, payload in update.items():
        if key == "update_id" or not isinstance(payload, dict):
            continue
        chat = payload.get("chat") or (payload.get("message") or {}).get("chat")
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return int(chat["id"])
        sender = payload.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return int(sender["id"])
    return None


class WebhookMethods(StandInBase):
    """setWebhook / deleteWebhook / getWebhookInfo and the delivery loop.

    Test-facing attributes: ``webhook`` (the current setWebhook parameters, or None),
    ``deliveries`` (every POST as :class:`Delivery`), ``dropped`` (update ids given up on),
    ``webhook_timeout`` (seconds a POST may take), ``webhook_max_attempts``,
    ``webhook_retry_delay`` (first back-off; it doubles up to 2 s).
    """

    webhook: JSONDict | None = None
    webhook_timeout: float = 30.0
    webhook_max_attempts: int = 40
    webhook_retry_delay: float = 0.1

    def __init__(self, token: str = DEFAULT_TOKEN) -> None:
        super().__init__(token)
        self.deliveries: list[Delivery] = []
        self.dropped: list[int] = []
        self._in_flight: set[int] = set()  # update ids being POSTed
        self._attempts: dict[int, int] = {}
        self._not_before: dict[int, float] = {}
        self._deliverer: asyncio.Task[None] | None = None
        self._webhook_session: aiohttp.ClientSession | None = None

    async def _set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url") or ""
        if not isinstance(url, str):
            raise _bad("bad webhook: url must be a string")
        if not url:
            await self._delete_webhook({})
            return True
        if not url.startswith(("http://", "https://")):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        max_connections = int(params.get("max_connections") or 40)
        if not 1 <= max_connections <= 100:
            raise _bad("bad webhook: max_connections must be between 1 and 100")
        secret = params.get("secret_token")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, str):
            allowed = json.loads(allowed)
        if isinstance(allowed, list) and allowed:
            self._allowed_updates = frozenset(str(a) for a in allowed)
        self.webhook = {
            "url": url,
            "secret_token": secret if isinstance(secret, str) else None,
            "max_connections": max_connections,
            "allowed_updates": sorted(self._allowed_updates),
        }
        if self._deliverer is None or self._deliverer.done():
            self._deliverer = asyncio.create_task(self._deliver_loop())
        self._update_signal.notify()
        return True

    async def _delete_webhook(self, params: JSONDict) -> bool:
        self.webhook = None
        self._update_signal.notify()
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook:
            raise ApiError(409, WEBHOOK_CONFLICT, category="conflict")
        result: list[JSONDict] = await super()._get_updates(params)  # type: ignore[misc]
        return result

    async def _stop_webhook(self) -> None:
        if self._deliverer is not None:
            self._deliverer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._deliverer
            self._deliverer = None
        if self._webhook_session is not None:
            await self._webhook_session.close()
            self._webhook_session = None

    # -- delivery ------------------------------------------------------------------------

    def _next_batch(self, now: float) -> list[JSONDict]:
        """Updates to POST now: the first pending one of each chat that has none in flight."""
        assert self.webhook is not None
        room = int(self.webhook["max_connections"]) - len(self._in_flight)
        busy_chats = {update_chat(u) for u in self._updates if u["update_id"] in self._in_flight}
        seen_chats: set[int | None] = set()
        batch = []
        for update in self._updates:  # in update-id order
            chat = update_chat(update)
            first_of_chat = chat is None or chat not in seen_chats
            seen_chats.add(chat)
            if room <= 0:
                break
            if update["update_id"] in self._in_flight or not first_of_chat:
                continue
            if chat is not None and chat in busy_chats:
                continue
            if self._not_before.get(update["update_id"], 0.0) > now:
                continue
            batch.append(update)
            room -= 1
        return batch

    async def _deliver_loop(self) -> None:
        loop = asyncio.get_running_loop()
        self._webhook_session = aiohttp.ClientSession()
        tasks: set[asyncio.Task[None]] = set()
        try:
            while self.webhook and not self._closing:
                self._updates = [
                    u
                    for u in self._updates
                    if next(k for k in u if k != "update_id") in self._allowed_updates
                ]
                for update in self._next_batch(loop.time()):
                    self._in_flight.add(update["update_id"])
                    task = asyncio.create_task(self._post(update))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                # Woken by a new update or a finished POST; a back-off needs a timed look.
                await self._update_signal.wait(0.05)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _post(self, update: JSONDict) -> None:
        assert self.webhook is not None and self._webhook_session is not None
        update_id = int(update["update_id"])
        attempt = self._attempts.get(update_id, 0) + 1
        self._attempts[update_id] = attempt
        headers = {"Content-Type": "application/json"}
        if self.webhook["secret_token"]:
            headers[SECRET_HEADER] = self.webhook["secret_token"]
        status: int | None = None
        try:
            async with self._webhook_session.post(
                self.webhook["url"],
                json=update,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            status = None
        finally:
            self._in_flight.discard(update_id)
        self.deliveries.append(Delivery(update_id, update_chat(update), status, attempt))
        loop = asyncio.get_running_loop()
        if status is not None and 200 <= status < 300:
            self._forget(update_id)
        elif attempt >= self.webhook_max_attempts:
            self.dropped.append(update_id)
            self._forget(update_id)
        else:
            delay = min(self.webhook_retry_delay * 2 ** (attempt - 1), 2.0)
            self._not_before[update_id] = loop.time() + delay
        self._update_signal.notify()

    def _forget(self, update_id: int) -> None:
        self._updates = [u for u in self._updates if u["update_id"] != update_id]
        self._attempts.pop(update_id, None)
        self._not_before.pop(update_id, None)

    def delivered_ok(self) -> list[int]:
        """Update ids answered with a 2xx, in the order the answers came."""
        return [d.update_id for d in self.deliveries if d.status and 200 <= d.status < 300]
