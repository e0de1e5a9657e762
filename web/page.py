"""What every console page shares: the services, the visitor, one database session per request,
refusals as pages, and rendering in the visitor's language.

A page handler is thin, as a chat handler is::

    async def reports(request: Request) -> Response:
        async with page(request) as p:          # session cookie → member → policy
            rows = await some_service(p.db, p.actor, ...)
            return p.render("reports.html", rows=rows)

``page(request, post=True)`` also checks the CSRF token of a form. Refusals raise
:class:`Refused`: 401 (no session: open the console from Telegram again), 403 (not a district or
city admin), 404 (missing *or* outside the visitor's scope: the two look the same, so ids cannot
be probed).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from core import texts
from core.policy import Actor, district_scope, may_open_console
from core.rules import format_date, format_datetime
from core.settings import Settings
from storage.db import AsyncSession, Database
from storage.evidence import EvidenceStorage
from storage.members import load_actor
from storage.models import Member
from web.auth import COOKIE, Session, SessionSigner, csrf_ok

log = logging.getLogger(__name__)

HERE = Path(__file__).parent

#: DingTalk's JSAPI (the 免登 code inside DingTalk), the only outside script of the DingTalk
#: pages (web/dingtalk.py) and allowed on them alone.
DINGTALK_JSAPI = "https://g.alicdn.com/dingding/dingtalk-jsapi/3.0.25/dingtalk.open.js"


def content_policy(script: str = "https://telegram.org") -> str:
    """The console's CSP: only kexie's own files, plus the one outside ``script`` source a page
    may load (Telegram's telegram-web-app.js by default: theme, back button; the console also
    works without it, and tests run offline)."""
    return (
        f"default-src 'self'; script-src 'self' {script}; style-src 'self'; "
        "img-src 'self' data: blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'self' https://web.telegram.org"
    )


#: Every console page's CSP but the DingTalk ones'.
CSP = content_policy()

#: How the console asks DingTalk who a 免登 code belongs to: their userid (the robot's
#: ``senderStaffId``), or None for an unknown, expired or used code. ``bot/`` plugs in
#: ``channels.dingtalk.api.DingTalkApi.user_of_code``; tests a fake.
ResolveCode = Callable[[str], Awaitable[str | None]]


@dataclass
class Console:
    """The services the console's pages use (built once by ``bot/``)."""

    settings: Settings
    db: Database
    store: EvidenceStorage | None = None
    # Wakes the outbox sender after a page committed outbox rows (a no-op without a sender).
    wake: Callable[[], None] = lambda: None
    # Extra, for pieces bot/ plugs in (e.g. how to send an export's files in chat).
    extras: dict[str, Any] = field(default_factory=dict)
    # DingTalk's 免登 codes (web/dingtalk.py); None: the DingTalk pages answer 404.
    resolve_code: ResolveCode | None = None

    def __post_init__(self) -> None:
        self.signer = SessionSigner(
            session_secret(self.settings), self.settings.web_session_minutes
        )
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        env = self.templates.env
        tz = self.settings.tz

        @pass_context
        def date_filter(context: Context, d: date | None) -> str:
            return local_date(context.get("lang") or texts.DEFAULT_LANG, d) if d else ""

        @pass_context
        def datetime_filter(context: Context, dt: datetime | None) -> str:
            return local_datetime(context.get("lang") or texts.DEFAULT_LANG, dt, tz) if dt else ""

        env.filters["local_date"] = date_filter
        env.filters["local_datetime"] = datetime_filter


def session_secret(settings: Settings) -> str:
    """The secret the session cookie's key is derived from: the bot token, or with DingTalk
    alone the app's client secret (never an empty string, which anyone could sign with)."""
    secret = settings.bot_token or settings.dingtalk_client_secret.get_secret_value()
    if not secret:
        raise ValueError("the console needs a bot token or a DingTalk client secret")
    return secret


def local_date(lang: str, d: date) -> str:
    """A date in the reader's language: ``2021年11月3日``, or ``3 November 2021`` in English."""
    return format_date(d, lang)


def local_datetime(lang: str, dt: datetime, tz: ZoneInfo) -> str:
    """A moment in local time in the reader's language: ``2021年11月3日 14:05`` or
    ``3 November 2021, 14:05``."""
    return format_datetime(dt, tz, lang)


class Refused(Exception):
    """A request the console answers with an error page (401, 403, 404, 400)."""

    def __init__(self, status: int, key: str) -> None:
        super().__init__(key)
        self.status = status
        self.key = key  # the catalog sentence shown
        self.lang: str | None = None  # the visitor's, once known (the page is then in it)


def not_found() -> Refused:
    """Missing, or outside the visitor's scope: the same answer, on purpose."""
    return Refused(404, "web_not_found")


def console_of(request: Request) -> Console:
    """The console's services, put on the app's state by :func:`web.app.create_console`."""
    console: Console = request.app.state.console
    return console


def base_path(request: Request) -> str:
    """The path the console is mounted at ("/console"), for links that survive a proxy."""
    return str(request.scope.get("root_path", "")).rstrip("/")


@dataclass
class Page:
    """One request's view: database session, visitor, language and rendering."""

    request: Request
    console: Console
    db: AsyncSession
    session: Session
    member: Member
    actor: Actor

    @property
    def lang(self) -> str:
        """The visitor's language (their choice in the chat's /settings)."""
        return self.member.language or texts.DEFAULT_LANG

    @property
    def settings(self) -> Settings:
        """The installation's settings."""
        return self.console.settings

    @property
    def districts(self) -> list[int] | None:
        """The districts the visitor oversees; None for a city admin (every district)."""
        return district_scope(self.actor)

    def moment(self, dt: datetime) -> str:
        """``dt`` in local time as the visitor reads it (:func:`local_datetime`)."""
        return local_datetime(self.lang, dt, self.settings.tz)

    def t(self, key: str, /, **params: Any) -> Markup:
        """A catalog sentence in the visitor's language, safe to put into the page."""
        return Markup(texts.t(self.lang, key, **params))

    def href(self, path: str = "/", query: Mapping[str, Any] | None = None) -> str:
        """A link inside the console (``/reports/12``), with an optional query string."""
        from urllib.parse import urlencode

        clean = {k: v for k, v in (query or {}).items() if v not in (None, "")}
        suffix = f"?{urlencode(clean)}" if clean else ""
        return f"{base_path(self.request)}{path}{suffix}"

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        """Render ``template`` with the page's helpers (``t``, ``href``, ``csrf``, ``lang``)."""
        return render(
            self.request,
            template,
            status=status,
            lang=self.lang,
            t=self.t,
            href=self.href,
            csrf=self.session.csrf,
            member=self.member,
            actor=self.actor,
            **context,
        )


def render(
    request: Request, template: str, *, status: int = 200, lang: str | None = None, **context: Any
) -> Response:
    """Render a template outside a :class:`Page` (entry and error pages)."""
    console = console_of(request)
    language = lang or browser_lang(request)
    context.setdefault("t", lambda key, **params: Markup(texts.t(language, key, **params)))
    context.setdefault("href", lambda path="/", query=None: f"{base_path(request)}{path}")
    context.setdefault("csrf", "")
    response = console.templates.TemplateResponse(
        request,
        template,
        {"lang": language, "base": base_path(request), "static": _static(request), **context},
        status_code=status,
    )
    return response


def browser_lang(request: Request) -> str:
    """The language of a page shown before the visitor is known (the way in, its refusals):
    Chinese whenever the browser lists Chinese at all, English when it lists English and no
    Chinese, Chinese otherwise. A signed-in visitor's pages follow their /settings instead."""
    tags = [
        part.split(";")[0].strip().lower()
        for part in request.headers.get("accept-language", "")[:200].split(",")
    ]
    if any(tag.startswith("zh") for tag in tags):
        return "zh"
    if any(tag.startswith("en") for tag in tags):
        return "en"
    return texts.DEFAULT_LANG


def _static(request: Request) -> Callable[[str], str]:
    return lambda name: f"{base_path(request)}/static/{name}"


@asynccontextmanager
async def page(request: Request, *, post: bool = False) -> AsyncIterator[Page]:
    """Open the request's database session (committed when the block succeeds), resolve the
    visitor from the session cookie and check they may use the console; with ``post``, also
    check the form's CSRF token. Raises :class:`Refused`."""
    console = console_of(request)
    session = console.signer.read(request.cookies.get(COOKIE))
    if session is None:
        raise Refused(401, "web_session_expired")
    form_token: str | None = None
    if post:
        # The body is bounded before this reads it (web.body_limit, around the whole app).
        form = await request.form()
        value = form.get("csrf")
        form_token = value if isinstance(value, str) else None
        request.state.form = form
        if not csrf_ok(session, form_token):
            log.warning("console: POST without a valid CSRF token (member %s)", session.member_id)
            raise Refused(403, "web_csrf")
    async with console.db.session() as db:
        member = await db.get(Member, session.member_id)
        if member is None:
            raise Refused(401, "web_session_expired")
        actor = await load_actor(db, member)
        try:
            if not may_open_console(actor):
                raise Refused(403, "web_admins_only")
            yield Page(request, console, db, session, member, actor)
        except Refused as refused:
            refused.lang = refused.lang or member.language
            raise


def form_value(request: Request, name: str) -> str:
    """A field of the form :func:`page` read for a POST ("" when absent)."""
    form = getattr(request.state, "form", None)
    value = form.get(name) if form is not None else None
    return value if isinstance(value, str) else ""
