"""/invite (association → role → uses → days → deep link + QR code) and /invites (revoke).

The choices travel in the buttons, so this flow needs no stored state; every press re-checks
the policy for the association and role in its data. Drawn in ``invite.mmd``.
Buttons: ``inv:org:<org>``, ``inv:role:<org>:<r|a>``, ``inv:uses:<org>:<r|a>:<n>``,
``inv:make:<org>:<r|a>:<uses>:<days>``, ``inv:revoke:<invite>`` (the codecs below).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import qrcode

from core.callbacks import Codec, id_codec
from core.enums import Role
from core.policy import Action, Target, allowed, invite_action
from core.rules import format_date
from core.texts import Raw
from handlers.common import Turn
from handlers.pickers import THEN_INVITE, new_org_buttons, org_buttons, pressed_org, refuse
from services import members
from storage.members import open_invites
from storage.models import Invite, Organisation
from storage.registry import districts_for_actor, orgs_for_actor

ROLE_CODES = {"r": Role.REPORTER, "a": Role.ORG_ADMIN}
USES_CHOICES = (1, 5, 20, 50)
DAYS_CHOICES = (1, 3, 7, 30)
MAX_USES = 200
MAX_DAYS = 90
MAX_LISTED = 20


@dataclass(frozen=True)
class RoleChosen:
    """An association and the role to invite to (``r`` reporter, ``a`` org admin)."""

    org: int
    role: str


@dataclass(frozen=True)
class UsesChosen:
    """…and how many people the invite admits."""

    org: int
    role: str
    uses: int


@dataclass(frozen=True)
class InviteChosen:
    """…and how many days it works: everything needed to make it."""

    org: int
    role: str
    uses: int
    days: int


INV_ORG = id_codec("inv:org")
INV_ROLE = Codec("inv:role:{org:id}:{role:r|a}", RoleChosen)
INV_USES = Codec("inv:uses:{org:id}:{role:r|a}:{uses:int}", UsesChosen)
INV_MAKE = Codec("inv:make:{org:id}:{role:r|a}:{uses:int}:{days:int}", InviteChosen)
INV_REVOKE = id_codec("inv:revoke")


def _code(role: Role) -> str:
    return next(c for c, r in ROLE_CODES.items() if r == role)


async def start_invite(turn: Turn) -> None:
    """/invite: which association (or create one)?"""
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    orgs = await orgs_for_actor(turn.session, turn.actor, Action.INVITE_REPORTER)
    districts = await districts_for_actor(turn.session, turn.actor, Action.CREATE_ORG)
    if not orgs and not districts:
        turn.reply(turn.t("reg_admins_only"))
        return
    buttons = org_buttons(orgs, INV_ORG) + new_org_buttons(turn, districts, THEN_INVITE)
    turn.reply(turn.t("invite_pick_org" if orgs else "invite_no_orgs"), buttons)


async def choose_org(turn: Turn) -> None:
    """An association was chosen: which role?"""
    pressed = turn.button(INV_ORG)
    if pressed is None:
        return
    org = await pressed_org(turn, pressed.id, Action.INVITE_REPORTER)
    if org is None:
        return
    turn.close_buttons()
    ask_role(turn, org)


def ask_role(turn: Turn, org: Organisation) -> None:
    """Offer the roles the actor may invite to ``org`` (only 报送员 for an org admin)."""
    target = Target(district_id=org.district_id, org_id=org.id)
    row = [
        (turn.label(f"role_{role}"), INV_ROLE.pack(RoleChosen(org.id, code)))
        for code, role in ROLE_CODES.items()
        if allowed(turn.actor, invite_action(role), target)
    ]
    turn.reply(turn.t("invite_pick_role", org=org.name), [row])


async def _pressed_role(
    turn: Turn, chosen: RoleChosen | UsesChosen | InviteChosen | None
) -> tuple[Organisation, Role] | None:
    """The association and role a button names, if the presser may invite to them now."""
    if chosen is None:
        return None
    role = ROLE_CODES[chosen.role]
    org = await pressed_org(turn, chosen.org, invite_action(role))
    return None if org is None else (org, role)


async def choose_role(turn: Turn) -> None:
    """A role was chosen: how many uses (admin invites are single-use: straight to days)."""
    pressed = await _pressed_role(turn, turn.button(INV_ROLE))
    if pressed is None:
        return
    org, role = pressed
    turn.close_buttons()
    if role != Role.REPORTER:
        _ask_days(turn, org, role, 1)
        return
    turn.reply(
        turn.t("invite_pick_uses", org=org.name, role=turn.label(f"role_{role}")),
        [
            [
                (turn.label("btn_uses", n=n), INV_USES.pack(UsesChosen(org.id, _code(role), n)))
                for n in USES_CHOICES
            ]
        ],
    )


async def choose_uses(turn: Turn) -> None:
    """The number of uses was chosen: how many days?"""
    chosen = turn.button(INV_USES)
    pressed = await _pressed_role(turn, chosen)
    if chosen is None or pressed is None:
        return
    org, role = pressed
    uses = chosen.uses
    if not 1 <= uses <= MAX_USES:
        turn.notice(turn.t("button_expired"))
        return
    turn.close_buttons()
    _ask_days(turn, org, role, uses)


def _ask_days(turn: Turn, org: Organisation, role: Role, uses: int) -> None:
    text = turn.t("invite_pick_days", org=org.name, role=turn.label(f"role_{role}"))
    if role != Role.REPORTER:
        text = Raw(text + "\n" + turn.t("invite_admin_single"))
    turn.reply(
        text,
        [
            [
                (
                    turn.label("btn_days", n=d),
                    INV_MAKE.pack(InviteChosen(org.id, _code(role), uses, d)),
                )
                for d in DAYS_CHOICES
            ]
        ],
    )


async def make_invite(turn: Turn) -> None:
    """Everything chosen: create the invite, answer with the deep link and its QR code."""
    chosen = turn.button(INV_MAKE)
    if chosen is None or turn.member is None:
        return
    uses, days = chosen.uses, chosen.days
    if not (1 <= uses <= MAX_USES and 1 <= days <= MAX_DAYS):
        turn.notice(turn.t("button_expired"))
        return
    role = ROLE_CODES[chosen.role]
    made = await members.invite(
        turn.session, turn.actor, role, org_id=chosen.org, uses=uses, days=days, now=turn.now
    )
    invite, org = made.invite, made.org
    if invite is None or org is None:
        refuse(turn)
        return
    turn.close_buttons()
    link = turn.front.start_link(invite.token)
    expires = _expires(turn, invite)
    role_label = turn.label(f"role_{role}")
    turn.reply(
        turn.t(
            "invite_made",
            role=role_label,
            org=org.name,
            link=link,
            uses=invite.max_uses,
            expires=expires,
        )
    )
    png = qr_png(link)
    caption = turn.label("invite_qr_caption", org=org.name[:200], role=role_label, expires=expires)
    # The caption is plain text (a label), not the catalog's HTML.
    turn.send_photo(png, caption, html=False)


def qr_png(text: str) -> bytes:
    """A QR code of ``text`` as PNG bytes (large enough to print on a poster)."""
    code = qrcode.QRCode(border=4, box_size=10, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# /invites


async def list_invites(turn: Turn) -> None:
    """/invites: the open invites in the actor's scope, each with a revoke button."""
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    if not turn.actor.is_admin:
        turn.reply(turn.t("reg_admins_only"))
        return
    text, buttons = await _render_invites(turn)
    turn.reply(text, buttons)


async def _render_invites(turn: Turn) -> tuple[Raw, list[list[tuple[str, str]]]]:
    invites = await open_invites(
        turn.session,
        org_ids=turn.actor.org_ids(Role.ORG_ADMIN),
        district_ids=turn.actor.district_ids(),
        everything=turn.actor.is_city,
        now=turn.now,
    )
    # The policy has the last word: an org admin sees only the invites they could make.
    invites = [
        i for i in invites if allowed(turn.actor, invite_action(i.role), members.invite_target(i))
    ]
    if not invites:
        return turn.t("invites_empty"), []
    lines = [turn.t("invites_title", n=len(invites))]
    buttons: list[list[tuple[str, str]]] = []
    for i, invite in enumerate(invites[:MAX_LISTED], start=1):
        lines.append(
            turn.t(
                "invites_line",
                i=i,
                role=turn.label(f"role_{invite.role}"),
                scope=_scope(invite),
                uses=invite.uses,
                max=invite.max_uses,
                expires=_expires(turn, invite),
            )
        )
        buttons.append([(turn.label("btn_revoke", i=i), INV_REVOKE.pack(id=invite.id))])
    return Raw("\n".join(lines)), buttons


def _expires(turn: Turn, invite: Invite) -> str:
    """The local date on which the invite stops working."""
    return format_date(invite.expires_at.astimezone(turn.settings.tz).date(), turn.lang)


def _scope(invite: Invite) -> str:
    if invite.organisation is not None:
        return invite.organisation.name
    if invite.district is not None:
        return invite.district.name
    return ""


async def revoke(turn: Turn) -> None:
    """撤销: the invite stops working at once; the list is redrawn."""
    if turn.member is None:
        turn.notice(turn.t("stranger"), alert=True)
        return
    pressed = turn.button(INV_REVOKE)
    if pressed is None:
        return
    revoked = await members.revoke(turn.session, turn.actor, pressed.id, now=turn.now)
    invite = revoked.invite
    if invite is None:
        refuse(turn)
        return
    turn.notice(
        turn.t("invite_revoked_ok", role=turn.label(f"role_{invite.role}"), scope=_scope(invite))
    )
    text, buttons = await _render_invites(turn)
    turn.edit(text, buttons)
