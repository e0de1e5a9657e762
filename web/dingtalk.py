"""The console and the invites inside DingTalk (钉钉): an H5 page DingTalk opens, whose script asks
DingTalk's JSAPI for a 免登 code (``dd.getAuthCode`` / ``dd.runtime.permission.requestAuthCode``
with the corp id) and posts it here; the server asks DingTalk whose code it is
(:data:`web.page.ResolveCode`, ``/topapi/v2/user/getuserinfo`` behind it) and then

* ``/dingtalk`` → ``/dingtalk/signin``: the same session cookie, CSRF and policy as Telegram's
  sign-in (:func:`web.entry.open_session`), for the member at ``Address(DINGTALK, userid)``;
* ``/dingtalk/join/{token}`` → the same join as ``/start TOKEN`` in the chat
  (:func:`services.members.join`), then the outcome and the way to the robot's chat.

The code is DingTalk's proof: it is single use, valid about five minutes, and only DingTalk's
server says whose it is. An unknown, expired or used code gets a sentence and no cookie; so does
a DingTalk user who is not a district or city admin. DingTalk's JSAPI is the only outside script
of these pages, and their CSP allows exactly that file (every other page keeps
:data:`web.page.CSP`).
"""

from __future__ import annotations

import logging
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core import texts
from core.address import Address
from core.enums import Channel
from core.policy import may_open_console
from core.texts import Raw
from handlers.start import membership_line
from services.members import join
from storage.members import load_actor, member_by_address
from storage.models import Membership
from web.entry import open_session
from web.page import (
    DINGTALK_JSAPI,
    Refused,
    ResolveCode,
    base_path,
    browser_lang,
    console_of,
    content_policy,
    render,
)
from web.params import number

log = logging.getLogger(__name__)

#: DingTalk's codes are 32 characters; an invite token 24. Anything far longer is not one.
MAX_CODE = 128
MAX_TOKEN = 64
_CSP = content_policy(DINGTALK_JSAPI)


def _resolver(request: Request) -> ResolveCode:
    """The console's way to resolve codes; 404 when DingTalk is not configured."""
    console = console_of(request)
    if console.resolve_code is None or not console.settings.dingtalk_corp_id:
        raise Refused(404, "web_not_found")
    return console.resolve_code


def _page(request: Request, action: str, *, status: int = 200, **context: Any) -> Response:
    """The DingTalk page: its script gets a code and posts it to ``action``."""
    response = render(
        request,
        "dingtalk.html",
        status=status,
        action=action,
        corp_id=console_of(request).settings.dingtalk_corp_id,
        jsapi=DINGTALK_JSAPI,
        **context,
    )
    response.headers["content-security-policy"] = _CSP
    return response


async def _userid(request: Request, lang: str) -> str:
    """The DingTalk userid the posted 免登 code belongs to; :class:`Refused` 403 when DingTalk
    does not vouch for it (unknown, expired, used, forged), 503 when it cannot be asked."""
    resolve = _resolver(request)
    declared = number(request.headers.get("content-length") or "0", low=0)
    if declared is None or declared > MAX_CODE * 4:
        raise Refused(400, "web_bad_request")
    form = await request.form()
    raw = form.get("code")
    code = raw.strip() if isinstance(raw, str) else ""
    refused = Refused(403, "web_dingtalk_refused")
    refused.lang = lang
    if not code or len(code) > MAX_CODE:
        raise refused
    try:
        userid = await resolve(code)
    except Exception:  # DingTalk unreachable or answering nonsense: say so, keep serving
        log.warning("console: DingTalk could not resolve a 免登 code", exc_info=True)
        unreachable = Refused(503, "web_dingtalk_unreachable")
        unreachable.lang = lang
        raise unreachable from None
    if not userid:
        log.info("console: DingTalk refused a 免登 code")
        raise refused
    return userid


async def open_in_dingtalk(request: Request) -> Response:
    """The console's H5 entry in DingTalk: the page that gets a code and signs in with it."""
    _resolver(request)
    return _page(request, f"{base_path(request)}/dingtalk/signin")


async def sign_in(request: Request) -> Response:
    """Exchange a 免登 code of a district or city admin for the console's session cookie."""
    console = console_of(request)
    userid = await _userid(request, browser_lang(request))
    address = Address(Channel.DINGTALK, userid)
    async with console.db.session() as db:
        member = await member_by_address(db, address)
        actor = await load_actor(db, member)
        if member is None or not may_open_console(actor):
            log.info("console: DingTalk user is not a district or city admin")
            raise Refused(403, "web_admins_only")
        member_id = member.id
    return open_session(request, member_id, address)


def _token(request: Request) -> str:
    token = str(request.path_params.get("token", ""))
    if not token or len(token) > MAX_TOKEN:
        raise Refused(404, "web_not_found")
    return token


async def join_page(request: Request) -> Response:
    """An invite opened inside DingTalk: the page that gets a code and joins with it."""
    _resolver(request)
    token = _token(request)
    return _page(request, f"{base_path(request)}/dingtalk/join/{token}", joining=True)


def _what(lang: str, membership: Membership) -> Raw:
    """``报送员：XX企业科协``: the role joined, as the chat's /start says it."""
    return Raw(membership_line(lang, membership).removeprefix("• "))


async def join_with_code(request: Request) -> Response:
    """Join through the invite ``token`` as the DingTalk user the code belongs to, as ``/start
    TOKEN`` does in the chat; the outcome, and the way to the robot's chat."""
    console = console_of(request)
    token = _token(request)
    lang = browser_lang(request)
    userid = await _userid(request, lang)
    address = Address(Channel.DINGTALK, userid)
    async with console.db.session() as db:
        # The code names the user, not their name: a member keeps the one they have; a new one
        # is called by the catalog's placeholder until /start in the chat brings the real one.
        known = await member_by_address(db, address)
        account = known.account(Channel.DINGTALK) if known is not None else None
        joined = await join(
            db,
            token,
            address=address,
            first_name=known.first_name if known else texts.plain(lang, "web_dingtalk_name"),
            username=account.username if account is not None else None,
            language=known.language if known and known.language else lang,
        )
        if joined.key is not None:
            log.info("console: DingTalk join refused (%s)", joined.key)
            refused = Refused(403, joined.key)
            refused.lang = lang
            raise refused
        assert joined.membership is not None
        # A role held before comes without its association and district (as in the chat).
        await db.refresh(joined.membership, ["organisation", "district"])
        what = _what(lang, joined.membership)
        outcome = texts.t(lang, "joined_already" if joined.already else "joined", what=what)
    return render(request, "dingtalk_joined.html", lang=lang, outcome=Markup(outcome))


routes = [
    Route("/dingtalk", open_in_dingtalk, methods=["GET"], name="dingtalk"),
    Route("/dingtalk/signin", sign_in, methods=["POST"], name="dingtalk_signin"),
    Route("/dingtalk/join/{token}", join_page, methods=["GET"], name="dingtalk_join"),
    Route("/dingtalk/join/{token}", join_with_code, methods=["POST"], name="dingtalk_joined"),
]
