"""Every DingTalk HTTP call the bot makes, on one async client (httpx; the SDK's helpers use
blocking ``requests`` and are never called on the event loop).

* **Access token** (``/v1.0/oauth2/accessToken``): cached until five minutes before it expires,
  fetched by one caller at a time; a 401 (or the old API's "token invalid" errcode) drops it and
  the call is made once more with a fresh one.
* **Rate**: ``settings.dingtalk_rate`` requests per second for the whole app (DingTalk's
  standard edition allows 20), in two lanes: ``urgent=True`` calls (a reply to the person who
  just wrote) always go before the queued scheduled ones (``urgent=False``, the default).
* **Metering**: :attr:`DingTalkApi.calls` counts each metered API call by name; the free
  edition meters API calls (issue 22: about 10 000 a month), so the benchmark prints them.
* **Errors**: every refusal or failure is a :class:`DingTalkError` whose flags say what the
  caller does next. Its message carries the call's name, the HTTP status and DingTalk's code —
  never the token, a webhook's URL or the text sent; logs carry ids only.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import PurePath
from typing import Any, Literal

import httpx

from core.settings import Settings

log = logging.getLogger(__name__)

MAX_MEDIA = 20 * 1024 * 1024  # DingTalk's limit for one uploaded image or file
TOKEN_MARGIN = 300.0  # seconds before its expiry that a token is fetched anew
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
MEDIA_TIMEOUT = httpx.Timeout(120.0, connect=5.0)  # uploads and downloads of up to 20 MB

# The old API (oapi) answers HTTP 200 with these errcodes for a bad or expired access token.
_OAPI_BAD_TOKEN = {40001, 40014, 42001}
# The old API's "system busy": worth trying again later.
_OAPI_BUSY = {-1}


class DingTalkError(Exception):
    """A DingTalk call failed or was refused.

    * ``transient``: the same call may succeed later (5xx, timeout, dropped connection, 429 or
      DingTalk's flow control);
    * ``unreachable``: the user cannot get messages from the robot (not in the organisation, or
      outside the robot's visible range);
    * ``gone``: what the call addressed no longer exists (a card, an expired session webhook):
      send a new message instead;
    * ``too_big``: a file over the limit (refused locally or by DingTalk).
    """

    def __init__(
        self,
        what: str,
        *,
        status: int | None = None,
        code: str | int | None = None,
        transient: bool = False,
        unreachable: bool = False,
        gone: bool = False,
        too_big: bool = False,
    ) -> None:
        details = [f"HTTP {status}"] if status is not None else []
        if code is not None and code != "":
            details.append(f"code {code}")
        super().__init__(f"{what} ({', '.join(details)})" if details else what)
        self.status = status
        self.code = code
        self.transient = transient
        self.unreachable = unreachable
        self.gone = gone
        self.too_big = too_big


class RateLanes:
    """A token bucket of ``rate`` requests per second shared by two lanes: every urgent waiter
    is let through before any queued one; within a lane, first come first served.

    A single dispatcher task hands out the tokens (it ends when nobody waits). ``burst`` tokens
    may be spent at once after a quiet spell; the default 1 spaces the requests evenly, so no
    second ever sees much more than ``rate`` of them. ``clock`` and ``sleep`` are injectable so
    tests wait on a fake clock.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.clock = clock
        self.sleep = sleep
        self._tokens = self.burst
        self._at = clock()
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._dispatcher: asyncio.Task[None] | None = None

    async def acquire(self, *, urgent: bool = False) -> None:
        """Wait for this request's turn (urgent ones first), then spend one token."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (0 if urgent else 1, next(self._seq), future))
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch(), name="dingtalk-rate")
        await future

    async def _dispatch(self) -> None:
        while self._waiting:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            # (A hair under one counts: float sums of clock differences fall just short.)
            if self._tokens >= 1.0 - 1e-6:
                _, _, future = heapq.heappop(self._waiting)
                if future.done():  # its caller gave up (cancelled): no token spent
                    continue
                self._tokens = max(self._tokens - 1.0, 0.0)
                future.set_result(None)
                # Let the released caller start its request before the next is released.
                await asyncio.sleep(0)
            else:
                await self.sleep((1.0 - self._tokens) / self.rate)

    async def aclose(self) -> None:
        """Stop handing out tokens; whoever still waits is cancelled."""
        for _, _, future in self._waiting:
            future.cancel()
        self._waiting.clear()
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher
            self._dispatcher = None


class DingTalkApi:
    """The robot's HTTP client for DingTalk's v1.0 API (``settings.dingtalk_api_url``), its old
    API (``settings.dingtalk_oapi_url``) and session webhooks. See the module's docstring."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.api_url = settings.dingtalk_api_url
        self.oapi_url = settings.dingtalk_oapi_url
        self.robot_code = settings.robot_code
        self.clock = clock
        self.lanes = RateLanes(settings.dingtalk_rate, clock=clock, sleep=sleep)
        self.calls: Counter[str] = Counter()
        self._http = httpx.AsyncClient(transport=transport, timeout=TIMEOUT)
        self._token: str | None = None
        self._token_until = 0.0
        self._token_lock = asyncio.Lock()

    async def aclose(self) -> None:
        """Close the connections and stop the rate lanes."""
        await self.lanes.aclose()
        await self._http.aclose()

    # --- the access token ------------------------------------------------------------------

    async def access_token(self, *, urgent: bool = False) -> str:
        """The app's access token: the cached one while it has five minutes left, otherwise a
        new one (one caller fetches; the others wait for it)."""
        async with self._token_lock:
            if self._token is not None and self.clock() < self._token_until:
                return self._token
            body = await self._call(
                "accessToken",
                "POST",
                f"{self.api_url}/v1.0/oauth2/accessToken",
                urgent=urgent,
                json={
                    "appKey": self.settings.dingtalk_client_id,
                    "appSecret": self.settings.dingtalk_client_secret.get_secret_value(),
                },
            )
            token = body.get("accessToken")
            if not isinstance(token, str) or not token:
                raise DingTalkError("accessToken: no token in the answer")
            expires_in = float(body.get("expireIn") or 7200)
            self._token = token
            self._token_until = self.clock() + max(expires_in - TOKEN_MARGIN, 0.0)
            return token

    def _drop_token(self, token: str) -> None:
        """Forget ``token`` (refused by DingTalk), unless another caller already replaced it."""
        if self._token == token:
            self._token = None
            self._token_until = 0.0

    # --- sending -----------------------------------------------------------------------------

    async def reply_webhook(
        self, url: str, title: str, markdown: str, *, urgent: bool = False
    ) -> None:
        """Reply in the conversation through the message's ``sessionWebhook`` (markdown).

        Raises DingTalkError (``gone``: the webhook refused it, e.g. expired — send through the
        API instead)."""
        # Counted as "webhook", apart from the metered calls: a session webhook is not one of
        # the API calls the free edition meters (issue 22: "10 000 a month ... use the cheapest
        # call that does the job, e.g. the message's sessionWebhook"); it needs no token.
        body = await self._call(
            "webhook",
            "POST",
            url,
            urgent=urgent,
            json={"msgtype": "markdown", "markdown": {"title": title, "text": markdown}},
        )
        errcode = body.get("errcode", 0)
        if errcode not in (0, "0"):
            raise DingTalkError("webhook", code=errcode, gone=True)

    async def send_markdown(
        self, user_id: str, title: str, markdown: str, *, urgent: bool = False
    ) -> None:
        """A markdown message to one user (``batchSend`` with ``sampleMarkdown``)."""
        await self._batch_send(
            user_id, "sampleMarkdown", {"title": title, "text": markdown}, urgent=urgent
        )

    async def send_image(self, user_id: str, media_id: str, *, urgent: bool = False) -> None:
        """An uploaded image to one user (``sampleImageMsg``; a media id works as photoURL)."""
        await self._batch_send(user_id, "sampleImageMsg", {"photoURL": media_id}, urgent=urgent)

    async def send_file(
        self, user_id: str, media_id: str, filename: str, *, urgent: bool = False
    ) -> None:
        """An uploaded file to one user under ``filename`` (``sampleFile``)."""
        file_type = PurePath(filename).suffix.lstrip(".").lower()
        param = {"mediaId": media_id, "fileName": filename, "fileType": file_type}
        await self._batch_send(user_id, "sampleFile", param, urgent=urgent)

    async def _batch_send(
        self, user_id: str, msg_key: str, param: dict[str, Any], *, urgent: bool
    ) -> None:
        body = await self._v1(
            "batchSend",
            "POST",
            "/v1.0/robot/oToMessages/batchSend",
            urgent=urgent,
            json={
                "robotCode": self.robot_code,
                "userIds": [user_id],
                "msgKey": msg_key,
                "msgParam": json.dumps(param, ensure_ascii=False),
            },
        )
        if user_id in (body.get("invalidStaffIdList") or ()):
            raise DingTalkError("batchSend: user not reachable", unreachable=True)
        if user_id in (body.get("flowControlledStaffIdList") or ()):
            raise DingTalkError("batchSend: flow controlled", transient=True)

    async def send_card(
        self, user_id: str, card_biz_id: str, card_data: dict[str, Any], *, urgent: bool = False
    ) -> None:
        """An interactive StandardCard (``card_data``, see channels.dingtalk.render) to one
        user, under our id ``card_biz_id`` (the id its presses and updates name)."""
        await self._v1(
            "cardSend",
            "POST",
            "/v1.0/im/v1.0/robot/interactiveCards/send",
            urgent=urgent,
            json={
                "cardTemplateId": "StandardCard",
                "singleChatReceiver": json.dumps({"userId": user_id}),
                "cardBizId": card_biz_id,
                "robotCode": self.robot_code,
                "cardData": json.dumps(card_data, ensure_ascii=False),
            },
        )

    async def update_card(
        self, card_biz_id: str, card_data: dict[str, Any], *, urgent: bool = False
    ) -> None:
        """Replace a sent card's data. Raises DingTalkError(``gone``) when DingTalk no longer
        knows the card (``card.notExist``)."""
        await self._v1(
            "cardUpdate",
            "PUT",
            "/v1.0/im/robots/interactiveCards",
            urgent=urgent,
            json={"cardBizId": card_biz_id, "cardData": json.dumps(card_data, ensure_ascii=False)},
        )

    # --- files ---------------------------------------------------------------------------------

    async def upload(
        self,
        data: bytes,
        filename: str,
        kind: Literal["image", "file"],
        *,
        urgent: bool = False,
    ) -> str:
        """Upload an image or file (``media/upload``); its ``media_id``. Over 20 MB is refused
        here, before any call (DingTalkError ``too_big``)."""
        if len(data) > MAX_MEDIA:
            raise DingTalkError("upload: over 20 MB", too_big=True)
        body = await self._oapi(
            "upload",
            "/media/upload",
            urgent=urgent,
            data={"type": kind},
            files={"media": (filename, data)},
            timeout=MEDIA_TIMEOUT,
        )
        media_id = body.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise DingTalkError("upload: no media_id in the answer")
        return media_id

    async def download(self, download_code: str, *, limit: int, urgent: bool = False) -> bytes:
        """A file a user sent: its ``downloadCode`` → a download URL → the bytes, at most
        ``limit`` of them (DingTalkError ``too_big`` past it: the announced Content-Length is
        checked first, then the bytes as they come)."""
        body = await self._v1(
            "download",
            "POST",
            "/v1.0/robot/messageFiles/download",
            urgent=urgent,
            json={"downloadCode": download_code, "robotCode": self.robot_code},
        )
        url = body.get("downloadUrl")
        if not isinstance(url, str) or not url:
            raise DingTalkError("download: no downloadUrl in the answer")
        # The URL is a signed link to DingTalk's file store, not an API call: no token header,
        # no rate token, not metered.
        try:
            stream = self._http.stream("GET", url, timeout=MEDIA_TIMEOUT, follow_redirects=True)
            async with stream as response:
                if response.status_code != 200:
                    raise _status_error("download file", response.status_code, None)
                announced = response.headers.get("content-length")
                if announced is not None and announced.isdigit() and int(announced) > limit:
                    raise DingTalkError("download: over the limit", too_big=True)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise DingTalkError("download: over the limit", too_big=True)
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TransportError as exc:
            raise DingTalkError(f"download file: {type(exc).__name__}", transient=True) from None

    # --- people --------------------------------------------------------------------------------

    async def user_of_code(self, code: str, *, urgent: bool = False) -> str | None:
        """The user id behind a 免登 code from ``dd.getAuthCode`` (``topapi/v2/user/getuserinfo``);
        None when DingTalk does not know the code (unknown, expired, used: errcode 40078…)."""
        try:
            body = await self._oapi(
                "userinfo", "/topapi/v2/user/getuserinfo", urgent=urgent, json={"code": code}
            )
        except DingTalkError as exc:
            if exc.transient or exc.status is not None or exc.code in _OAPI_BAD_TOKEN:
                raise
            log.info("userinfo: code refused (errcode %s)", exc.code)
            return None
        result = body.get("result")
        user_id = result.get("userid") if isinstance(result, dict) else None
        return user_id if isinstance(user_id, str) and user_id else None

    # --- the calls -----------------------------------------------------------------------------

    async def _v1(
        self, name: str, method: str, path: str, *, urgent: bool, json: dict[str, Any]
    ) -> dict[str, Any]:
        """A v1.0 API call with the token header; once more with a new token after a 401."""
        for attempt in (1, 2):
            token = await self.access_token(urgent=urgent)
            try:
                return await self._call(
                    name,
                    method,
                    f"{self.api_url}{path}",
                    urgent=urgent,
                    json=json,
                    headers={"x-acs-dingtalk-access-token": token},
                )
            except DingTalkError as exc:
                if exc.status != 401 or attempt == 2:
                    raise
                log.info("%s: token refused, fetching a new one", name)
                self._drop_token(token)
        raise AssertionError("unreachable")

    async def _oapi(self, name: str, path: str, *, urgent: bool, **request: Any) -> dict[str, Any]:
        """An old-API call (token in the query, errcode in the body); once more with a new
        token when the token is refused."""
        for attempt in (1, 2):
            token = await self.access_token(urgent=urgent)
            try:
                body = await self._call(
                    name,
                    "POST",
                    f"{self.oapi_url}{path}",
                    urgent=urgent,
                    params={"access_token": token},
                    **request,
                )
            except DingTalkError as exc:
                if exc.status != 401 or attempt == 2:
                    raise
                self._drop_token(token)
                continue
            errcode = body.get("errcode", 0)
            if errcode in (0, "0"):
                return body
            if errcode in _OAPI_BAD_TOKEN and attempt == 1:
                log.info("%s: token refused (errcode %s), fetching a new one", name, errcode)
                self._drop_token(token)
                continue
            raise DingTalkError(name, code=errcode, transient=errcode in _OAPI_BUSY)
        raise AssertionError("unreachable")

    async def _call(
        self, name: str, method: str, url: str, *, urgent: bool, **request: Any
    ) -> dict[str, Any]:
        """One paced, counted request; its JSON answer, or DingTalkError for anything else."""
        await self.lanes.acquire(urgent=urgent)
        self.calls[name] += 1
        try:
            response = await self._http.request(method, url, **request)
        except httpx.TransportError as exc:
            # The exception's text may hold the URL (a token, a webhook's session): not kept.
            raise DingTalkError(f"{name}: {type(exc).__name__}", transient=True) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            code = (body.get("code") or body.get("errcode")) if isinstance(body, dict) else None
            log.info("%s: HTTP %s code %s", name, response.status_code, code)
            raise _status_error(name, response.status_code, code)
        if not isinstance(body, dict):
            raise DingTalkError(f"{name}: not a JSON object", status=response.status_code)
        return body


def _status_error(name: str, status: int, code: Any) -> DingTalkError:
    """What an HTTP error status (and DingTalk's code) means for the caller."""
    text = str(code or "")
    flow_control = "QpsLimit" in text or "Throttl" in text or "FlowControl" in text
    return DingTalkError(
        name,
        status=status,
        code=code,
        transient=status >= 500 or status == 429 or flow_control,
        gone=text == "card.notExist",
    )
