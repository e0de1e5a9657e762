"""An ASGI middleware that bounds a request's body before anything reads it.

Starlette reads a body whole (``request.form()``, ``request.body()``) before a page can look at
the session or the CSRF token, so without a bound anyone could send a few hundred megabytes and
the process would hold them. :class:`BodyLimit` answers 413 at once when ``Content-Length``
says too much, and counts the body as it arrives otherwise (chunked transfer has no length):
the read that crosses the limit ends the request with 413, and nothing further is received.

Written once for every ASGI app of kexie (the console's 64 KB, the webhook's 1 MB)."""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

_ANSWER = b"request body too large"


class BodyTooLarge(Exception):
    """Raised into the app by the bounded ``receive`` once the body passes the limit."""


def declared_length(scope: Scope) -> int | None:
    """The request's ``Content-Length``: None when absent, -1 when it is not a plain ASCII
    number (``²``, ``-5``, ``1,2``, two different values), else the number."""
    values = {v for k, v in scope.get("headers", []) if k.lower() == b"content-length"}
    if not values:
        return None
    if len(values) > 1:
        return -1
    raw = values.pop().strip()
    # bytes.isdigit() is ASCII-only, unlike str.isdigit().
    if not raw.isdigit():
        return -1
    # More digits than any body could have: too large (and int() of thousands refuses).
    return int(raw) if len(raw) <= 18 else 10**18


class BodyLimit:
    """Refuse (413) a request whose body is larger than ``max_bytes``, before it is read."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = declared_length(scope)
        if length is not None and (length < 0 or length > self.max_bytes):
            status = 400 if length < 0 else 413
            log.info("request refused before its body: Content-Length %s", length)
            await _answer(send, status)
            return

        received = 0
        refused = False
        started = False

        async def bounded_receive() -> Message:
            nonlocal received, refused
            if refused:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the app's own answer to the exception (a 500 page) is not sent
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, guarded_send)
        except BodyTooLarge:
            pass
        except Exception:
            if not refused:
                raise
            # The app turned BodyTooLarge into another error (e.g. a form parser's): the 413
            # below is still the answer.
        if refused:
            log.info("request refused: body over %d bytes", self.max_bytes)
            if not started:
                await _answer(send, 413)


async def _answer(send: Send, status: int) -> None:
    """A short plain-text refusal that closes the connection (the rest is never read)."""
    body = _ANSWER if status == 413 else b"bad request"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
