"""python-telegram-bot's HTTP layer on aiohttp's client.

python-telegram-bot ships an httpx backend; httpx reaches the socket through httpcore and anyio,
and on kexie's report path that costs about 0.7 ms of the event loop's CPU per Bot API call,
against about 0.2 ms for aiohttp's client with its C HTTP parser (both measured against the local
stand-in). With 1.5 calls per update that was a fifth of the CPU a report step takes
(``benchmarks/conversation.py``). python-telegram-bot documents :class:`BaseRequest` as the place
to plug another HTTP library in; this is that, and nothing more: the retries, the counting and
the rate limiting stay where they are (``bot/metrics.py``, ``bot/app.py``, ``bot/lanes.py``).

Timeouts keep python-telegram-bot's meaning: ``connect`` to open a connection, ``pool`` to wait
for a free one, ``read`` between two pieces of the answer (so a large download is not cut
short). aiohttp has no write timeout: an upload (an export's file) is bounded as a whole instead,
by the other timeouts plus ``media_write`` or the time its size takes at
:data:`MIN_UPLOAD_RATE`, whichever is longer. Failures become python-telegram-bot's
:class:`~telegram.error.TimedOut` and :class:`~telegram.error.NetworkError`, as with httpx; their
messages never carry the URL (it holds the bot token). The one request aiohttp repeats by
itself is a GET (a file download) whose kept-alive connection the server had already closed,
as HTTP/1.1 allows (RFC 9112 §9.3.1): no answer was lost, so that is no retry of a failure.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlencode

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

MIN_UPLOAD_RATE = 100 * 1024  # bytes per second an upload may not fall below


class AiohttpRequest(BaseRequest):
    """A :class:`telegram.request.BaseRequest` over one :class:`aiohttp.ClientSession`.

    The arguments and their defaults are :class:`telegram.request.HTTPXRequest`'s.
    """

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """See :attr:`telegram.request.BaseRequest.read_timeout`."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (in the running event loop, as aiohttp requires)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
                # No proxy or .netrc from the environment: the same as configured everywhere.
                trust_env=False,
            )

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See :meth:`telegram.request.BaseRequest.do_request`."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write = self._media_write_timeout if files else self._write_timeout
        else:
            write = write_timeout
        # The body aiohttp's FormData would make of the fields, made here: FormData also builds a
        # multipart writer (and a random boundary) for every request, which it never uses.
        data: Any = (
            aiohttp.BytesPayload(
                urlencode(list(fields.items()), doseq=True).encode(),
                content_type="application/x-www-form-urlencoded",
            )
            if fields
            else None
        )
        total = None
        if files:
            # Names as python-telegram-bot sends them with httpx: UTF-8 as is (RFC 7578), not
            # percent-encoded (Telegram would show the encoded name).
            form = aiohttp.FormData(quote_fields=False)
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            size = 0
            for name, (file_name, content, mime) in files.items():
                form.add_field(name, content, filename=file_name, content_type=mime)
                size += _size(content)
            data = form
            if write is not None:
                total = _total(connect, max(write, size / MIN_UPLOAD_RATE), read)
        timeout = aiohttp.ClientTimeout(
            total=total,
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as res:
                return res.status, await res.read()
        except TimeoutError as exc:  # aiohttp's timeouts are TimeoutErrors too
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            text = str(exc).replace(url, "<url>")  # the URL carries the bot token
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {text}") from exc


def _size(content: object) -> int:
    """The bytes an upload's part holds (its content, or the file it is read from)."""
    if isinstance(content, bytes | bytearray | memoryview):
        return len(content)
    try:
        return os.fstat(content.fileno()).st_size  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return 0


def _total(*parts: float | None) -> float | None:
    """The bound on a whole request: connecting, sending and the answer (None: unbounded)."""
    if any(p is None for p in parts):
        return None
    return sum(p for p in parts if p is not None)
