"""新建科协: creating an association, from /org or /invite (flow ``org``, step ``new_name``;
drawn in ``org.mmd``). The district in a button is checked against the policy again on press.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.callbacks import Codec
from core.enums import OrgKind
from core.policy import Action
from handlers.common import Turn
from handlers.invite import ask_role
from handlers.org_card import FLOW, OrgStep, show_card
from handlers.pickers import KIND_CODES, ORG_NEW, THEN_INVITE, kind_label, pressed_district, refuse
from services import organisations
from storage import chat_state
from storage.models import ChatState
from storage.registry import load_organisation


@dataclass(frozen=True)
class KindPressed:
    """新建科协: the kind chosen (``e`` enterprise, ``z`` zone) in ``district``."""

    district: int
    kind: str
    then: str


ORG_KIND = Codec("org:kind:{district:id}:{kind:e|z}:{then:o|i}", KindPressed)


async def ask_new_kind(turn: Turn) -> None:
    """新建科协: which kind?"""
    pressed = turn.button(ORG_NEW)
    if pressed is None:
        return
    district = await pressed_district(turn, pressed.district, Action.CREATE_ORG)
    if district is None:
        return
    turn.close_buttons()
    turn.reply(
        turn.t("org_new_kind"),
        [
            [
                (
                    kind_label(turn, kind),
                    ORG_KIND.pack(KindPressed(district.id, code, pressed.then)),
                )
                for code, kind in KIND_CODES.items()
            ]
        ],
    )


async def ask_new_name(turn: Turn) -> None:
    """The kind was chosen: ask the name (the next message)."""
    pressed = turn.button(ORG_KIND)
    if pressed is None:
        return
    district = await pressed_district(turn, pressed.district, Action.CREATE_ORG)
    if district is None or turn.member is None:
        return
    kind = KIND_CODES[pressed.kind]
    turn.close_buttons()
    await chat_state.set_state(
        turn.session,
        turn.member.id,
        FLOW,
        OrgStep.NEW_NAME,
        None,
        {"district_id": district.id, "kind": kind.value, "then": pressed.then},
    )
    turn.reply(turn.t("org_new_name", kind=kind_label(turn, kind)))


async def create_named(turn: Turn, state: ChatState, text: str) -> None:
    """The name typed at step ``new_name``: create the association, then its card (or the
    invite flow, when 新建科协 was pressed there)."""
    assert turn.member is not None
    kind = OrgKind(state.data.get("kind", OrgKind.ENTERPRISE))
    district_id = int(state.data.get("district_id", 0))
    created = await organisations.create(turn.session, turn.actor, district_id, kind, text)
    if created.outcome == organisations.Outcome.REFUSED:
        await chat_state.clear_state(turn.session, turn.member.id)
        refuse(turn)
        return
    if created.org is None:
        # Asked again: the name is not valid, or the district has one of that name.
        turn.reply(turn.t(created.key or "reg_err_org_name", name=created.params.get("name", "")))
        return
    await chat_state.clear_state(turn.session, turn.member.id)
    turn.reply(turn.t("org_created", kind=kind_label(turn, kind), name=created.org.name))
    org = await load_organisation(turn.session, created.org.id)
    assert org is not None
    if state.data.get("then") == THEN_INVITE:
        ask_role(turn, org)  # the invite flow continues with the new association
        return
    show_card(turn, org)


def ask_name_again(turn: Turn, state: ChatState) -> None:
    """Repeat the question of step ``new_name`` (nothing changes)."""
    kind = OrgKind(state.data.get("kind", OrgKind.ENTERPRISE))
    turn.reply(turn.t("org_new_name", kind=kind_label(turn, kind)))
