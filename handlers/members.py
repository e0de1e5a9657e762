"""/members: the members of an association with their roles; remove one (access ends at once).

Buttons: ``mem:org:<org>``, ``mem:rm:<membership>``, ``mem:rmyes:<membership>``. Removing
a member with role R needs the permission that invites to R (policy.invite_action), so an org
admin may remove reporters but not the org admins the district appointed. Drawn in
``members.mmd``.
"""

from __future__ import annotations

from core.callbacks import Codec, Id, id_codec
from core.policy import Action, may_somewhere
from core.texts import Raw
from handlers.common import Turn
from handlers.pickers import org_buttons, pressed_org, refuse
from services import members
from storage.members import load_actor, load_membership, org_memberships
from storage.models import Membership, Organisation
from storage.registry import orgs_for_actor

MAX_LISTED = 40

MEM_ORG = id_codec("mem:org")
MEM_RM = id_codec("mem:rm")
MEM_RMYES = id_codec("mem:rmyes")


async def start_members(turn: Turn) -> None:
    """/members: the only association in scope, or a picker."""
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    orgs = await orgs_for_actor(turn.session, turn.actor, Action.MANAGE_MEMBERS)
    if not orgs:
        # A district (or city) with no association yet is no refusal: say what comes first.
        allowed_here = may_somewhere(turn.actor, Action.MANAGE_MEMBERS)
        turn.reply(turn.t("members_no_orgs" if allowed_here else "reg_admins_only"))
        return
    if len(orgs) == 1:
        await show_members(turn, orgs[0])
        return
    turn.reply(turn.t("members_pick_org"), org_buttons(orgs, MEM_ORG))


async def choose_org(turn: Turn) -> None:
    """An association from the picker."""
    pressed = turn.button(MEM_ORG)
    if pressed is None:
        return
    org = await pressed_org(turn, pressed.id, Action.MANAGE_MEMBERS)
    if org is None:
        return
    await show_members(turn, org)


def _name(membership: Membership) -> str:
    member = membership.member
    name = member.first_name or ""
    # The first channel's account: its handle (Telegram's @username), else its id.
    address = member.address()
    account = member.account(address.channel) if address is not None else None
    if account is not None and account.username:
        name = f"{name} @{account.username}".strip()
    return name or (address.external_id if address is not None else str(member.id))


async def show_members(turn: Turn, org: Organisation, *, edit: bool = False) -> None:
    """The member list with a remove button for each member the presser may remove."""
    memberships = await org_memberships(turn.session, org.id)
    if not memberships:
        text: Raw = turn.t("members_empty", org=org.name)
        buttons: list[list[tuple[str, str]]] = []
    else:
        lines = [turn.t("members_title", org=org.name, n=len(memberships))]
        buttons = []
        for i, m in enumerate(memberships[:MAX_LISTED], start=1):
            name = _name(m)
            lines.append(turn.t("members_line", i=i, name=name, role=turn.label(f"role_{m.role}")))
            if members.may_remove(turn.actor, m) and m.member_id != turn.actor.member_id:
                label = turn.label("btn_remove", i=i, name=name[:30])
                buttons.append([(label, MEM_RM.pack(id=m.id))])
        text = Raw("\n".join(lines))
    if edit:
        turn.edit(text, buttons)
    else:
        turn.reply(text, buttons)


async def _pressed_membership(turn: Turn, codec: Codec[Id]) -> Membership | None:
    pressed = turn.button(codec)
    if pressed is None:
        return None
    membership = await load_membership(turn.session, pressed.id)
    if membership is None or not members.may_remove(turn.actor, membership):
        refuse(turn)
        return None
    if not membership.active:
        turn.notice(turn.t("button_expired"))
        return None
    return membership


async def ask_remove(turn: Turn) -> None:
    """移除: confirm first; removing is immediate."""
    membership = await _pressed_membership(turn, MEM_RM)
    if membership is None:
        return
    assert membership.organisation is not None
    turn.reply(
        turn.t(
            "member_remove_confirm",
            name=_name(membership),
            role=turn.label(f"role_{membership.role}"),
            org=membership.organisation.name,
        ),
        [
            [
                (turn.label("btn_remove_yes"), MEM_RMYES.pack(id=membership.id)),
                (turn.label("btn_back"), MEM_ORG.pack(id=membership.organisation.id)),
            ]
        ],
    )


async def remove_member(turn: Turn) -> None:
    """确认移除: the role ends now; the member's reports stay with the association."""
    pressed = turn.button(MEM_RMYES)
    if pressed is None:
        return
    removed = await members.remove_member(turn.session, turn.actor, pressed.id, now=turn.now)
    membership = removed.membership
    if removed.outcome == members.Outcome.REFUSED or membership is None:
        refuse(turn)
        return
    if not removed.done:
        turn.notice(turn.t(removed.key or "button_expired"))
        return
    org = membership.organisation
    assert org is not None
    # Their command menu shrinks to what they may still do (commands re-check anyway).
    member = membership.member
    remaining = await load_actor(turn.session, member)
    # Their menu on this front's channel (a member of another channel has none here).
    address = member.address(turn.address.channel)
    if address is not None:
        turn.set_menu_later(address, remaining, member.language)
    turn.edit(
        turn.t(
            "member_removed",
            name=_name(membership),
            role=turn.label(f"role_{membership.role}"),
            org=org.name,
        )
    )
    await show_members(turn, org)
