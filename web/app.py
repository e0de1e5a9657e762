"""The console's ASGI app (:func:`create_console`), mounted at ``/console`` by ``bot/``: beside
``/telegram`` in webhook mode, on its own small server (``KEXIE_WEB_LISTEN``) in polling mode."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web import associations, dingtalk, entry, export, overview, report, reports
from web.body_limit import BodyLimit
from web.page import CSP, HERE, Console, Refused, render

log = logging.getLogger(__name__)

# A console form is a few fields (a return reason is the longest); the body is refused past
# this before anything reads it, a session or not.
MAX_BODY = 64 * 1024


class _SecurityHeaders:
    """Adds the CSP and friends to every console response. A page that loads another outside
    script (the DingTalk pages) sets its own CSP, which is kept; every other gets :data:`CSP`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"content-security-policy" for name, _ in headers):
                    headers.append((b"content-security-policy", CSP.encode()))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"cache-control", b"no-store"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return render(
        request, "error.html", status=exc.status, lang=exc.lang, key=exc.key, code=exc.status
    )


def create_console(console: Console) -> ASGIApp:
    """The console app for these services; mount it at ``/console``."""
    app = Starlette(
        routes=[
            *entry.routes,
            *dingtalk.routes,
            *reports.routes,
            *report.routes,
            *associations.routes,
            *overview.routes,
            *export.routes,
            Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
        ],
        exception_handlers={Refused: _refused},
    )
    app.state.console = console
    return _SecurityHeaders(BodyLimit(app, MAX_BODY))
