"""The way in: Telegram opens ``/console/`` with ``#tgWebAppData=…`` in the URL fragment; the page's
own script posts it to ``/console/session``, which checks it (:mod:`web.auth`), finds the member
and their roles, and sets the session cookie."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from core.address import Address
from core.enums import Channel
from core.policy import may_open_console
from storage.members import load_actor, member_by_address
from web.auth import COOKIE, MAX_INIT_DATA, InitDataError, validate_init_data
from web.page import Refused, base_path, console_of, render
from web.params import number

log = logging.getLogger(__name__)


async def open_console(request: Request) -> Response:
    """The entry page: its script reads initData from the fragment (or Telegram's script)."""
    return render(request, "entry.html")


async def start_session(request: Request) -> Response:
    """Exchange a valid initData of a district or city admin for the session cookie."""
    console = console_of(request)
    if not console.settings.bot_token:
        # DingTalk alone: no Telegram bot, and initData signed with an empty token proves
        # nothing (anyone can compute that key).
        raise Refused(404, "web_not_found")
    # Tighter than the console's bound on every body (web.body_limit): initData is small. A
    # chunked body has no length here; that bound and validate_init_data's hold it.
    declared = number(request.headers.get("content-length") or "0", low=0)
    if declared is None or declared > MAX_INIT_DATA * 2:
        raise Refused(400, "web_bad_request")
    form = await request.form()
    raw = form.get("init_data")
    try:
        user = validate_init_data(raw if isinstance(raw, str) else "", console.settings.bot_token)
    except InitDataError as exc:
        log.info("console: initData refused (%s)", exc.reason)
        raise Refused(401, "web_init_refused") from None
    # initData comes from Telegram's web app: the user is a Telegram account.
    address = Address(Channel.TELEGRAM, str(user.id))
    async with console.db.session() as db:
        member = await member_by_address(db, address)
        actor = await load_actor(db, member)
        if member is None or not may_open_console(actor):
            log.info("console: user %s is not a district or city admin", user.id)
            raise Refused(403, "web_admins_only")
        member_id = member.id
    return open_session(request, member_id, address)


def open_session(request: Request, member_id: int, address: Address) -> Response:
    """The session cookie for ``member_id`` signed in from ``address`` (its identity already
    checked: Telegram's initData here, a DingTalk 免登 code in web/dingtalk.py), and the way
    on to the reports page."""
    console = console_of(request)
    value, _session = console.signer.issue(member_id, address)
    log.info("console: session opened for member %s (%s)", member_id, address.channel)
    response = RedirectResponse(f"{base_path(request)}/reports", status_code=303)
    response.set_cookie(
        COOKIE,
        value,
        max_age=console.signer.max_age,
        path=base_path(request) or "/",
        httponly=True,
        secure=True,
        samesite="strict",
    )
    return response


async def end_session(request: Request) -> Response:
    """Forget the session (the 退出 link)."""
    response = render(request, "entry.html", ended=True)
    response.delete_cookie(COOKIE, path=base_path(request) or "/")
    return response


routes = [
    Route("/", open_console, methods=["GET"], name="console"),
    Route("/session", start_session, methods=["POST"], name="session"),
    Route("/logout", end_session, methods=["GET"], name="logout"),
]
