"""/org in chat: an association's annex 1-1 / 1-2 entry, field by field.

Flow ``org`` (``handlers.org_card.OrgStep``, drawn in ``org.mmd``): the field being asked, or
the new association's name (``handlers/org_new.py``); every answer is committed when it
arrives. Every id in a button is checked against the policy again on press.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.callbacks import Codec, id_codec
from core.policy import Action
from core.registry_rules import (
    MULTI_OFFICERS,
    FieldSpec,
    field_by_key,
    fields_for,
)
from core.texts import Raw
from handlers.common import Turn
from handlers.org_card import FLOW, ORG_EDIT, ORG_FILL, OrgStep, show_card
from handlers.org_new import ask_name_again, create_named
from handlers.pickers import (
    THEN_CARD,
    new_org_buttons,
    org_buttons,
    pressed_org,
    refuse,
)
from services import organisations
from storage import chat_state
from storage.models import ChatState, Organisation
from storage.registry import (
    display_value,
    districts_for_actor,
    field_value,
    is_filled,
    load_organisation,
    missing_fields,
    orgs_for_actor,
)


@dataclass(frozen=True)
class FieldPressed:
    """A field of an association (``org:f`` / ``org:skip``)."""

    org: int
    key: str


@dataclass(frozen=True)
class ChoicePressed:
    """One of a choice field's options (国企/民企…), by index."""

    org: int
    key: str
    index: int


ORG_OPEN = id_codec("org:open")
ORG_FIELD = Codec("org:f:{org:id}:{key:word}", FieldPressed)
ORG_CHOICE = Codec("org:c:{org:id}:{key:word}:{index:int}", ChoicePressed)
ORG_SKIP = Codec("org:skip:{org:id}:{key:word}", FieldPressed)


# ---------------------------------------------------------------------------------------------
# /org: pick an association, see its card


async def open_registry(turn: Turn) -> None:
    """/org: the card of the only association in scope, or a picker (with 新建科协)."""
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    orgs = await orgs_for_actor(turn.session, turn.actor, Action.MANAGE_REGISTRY)
    districts = await districts_for_actor(turn.session, turn.actor, Action.CREATE_ORG)
    if not orgs and not districts:
        turn.reply(turn.t("reg_admins_only"))
        return
    if len(orgs) == 1 and not districts:
        org = await load_organisation(turn.session, orgs[0].id)
        assert org is not None
        show_card(turn, org)
        return
    buttons = org_buttons(orgs, ORG_OPEN) + new_org_buttons(turn, districts, THEN_CARD)
    turn.reply(turn.t("org_pick" if orgs else "org_none"), buttons)


async def open_org(turn: Turn) -> None:
    """An association from the picker: its card."""
    pressed = turn.button(ORG_OPEN)
    if pressed is None:
        return
    org = await pressed_org(turn, pressed.id, Action.MANAGE_REGISTRY)
    if org is None:
        return
    show_card(turn, org)


# ---------------------------------------------------------------------------------------------
# filling fields


async def fill_missing(turn: Turn) -> None:
    """逐项填写缺失项: ask the first missing field, then the next, until none is left."""
    pressed = turn.button(ORG_FILL)
    if pressed is None:
        return
    org = await pressed_org(turn, pressed.id, Action.MANAGE_REGISTRY)
    if org is None:
        return
    turn.close_buttons()
    missing = missing_fields(org)
    if not missing:
        show_card(turn, org)
        return
    await ask_field(turn, org, missing[0], walk=True)


async def pick_field(turn: Turn) -> None:
    """修改某一项: one button per field."""
    pressed = turn.button(ORG_EDIT)
    if pressed is None:
        return
    org = await pressed_org(turn, pressed.id, Action.MANAGE_REGISTRY)
    if org is None:
        return
    row: list[tuple[str, str]] = []
    buttons: list[list[tuple[str, str]]] = []
    for spec in fields_for(org.kind):
        mark = "" if is_filled(org, spec) else "· "
        field = ORG_FIELD.pack(FieldPressed(org.id, spec.key))
        row.append((mark + turn.label(f"reg_f_{spec.key}"), field))
        if len(row) == 3:
            buttons.append(row)
            row = []
    if row:
        buttons.append(row)
    turn.reply(turn.t("org_edit_pick"), buttons)


async def choose_field(turn: Turn) -> None:
    """A field button: ask for that one field."""
    pressed = turn.button(ORG_FIELD)
    if pressed is None:
        return
    org = await pressed_org(turn, pressed.org, Action.MANAGE_REGISTRY)
    if org is None:
        return
    spec = field_by_key(org.kind, pressed.key)
    if spec is None:
        turn.notice(turn.t("button_expired"))
        return
    turn.close_buttons()
    await ask_field(turn, org, spec, walk=False)


async def ask_field(turn: Turn, org: Organisation, spec: FieldSpec, *, walk: bool) -> None:
    """Record which field is asked (committed) and ask it."""
    assert turn.member is not None
    await chat_state.set_state(
        turn.session,
        turn.member.id,
        FLOW,
        OrgStep.FIELD,
        None,
        {"org_id": org.id, "key": spec.key, "walk": walk},
    )
    label = turn.label(f"reg_f_{spec.key}")
    if spec.kind == "person":
        multi = spec.key in MULTI_OFFICERS
        text = turn.t("org_ask_people" if multi else "org_ask_person", label=label)
    else:
        text = turn.t(f"org_ask_{spec.kind}", label=label)
    parts = [text]
    current = display_value(field_value(org, spec))
    if current is not None:
        parts.append(turn.t("org_ask_current", value=current))
    if walk:
        parts.append(turn.t("org_ask_walk_hint"))
    buttons: list[list[tuple[str, str]]] = []
    if spec.kind == "choice":
        buttons.append(
            [
                (c, ORG_CHOICE.pack(ChoicePressed(org.id, spec.key, i)))
                for i, c in enumerate(spec.choices)
            ]
        )
    if walk:
        skip = ORG_SKIP.pack(FieldPressed(org.id, spec.key))
        buttons.append([(turn.label("btn_org_skip"), skip)])
    turn.reply(Raw("\n".join(parts)), buttons or None)


async def receive_answer(turn: Turn, state: ChatState) -> None:
    """A message in the ``org`` flow: an association's name, or the answer to a field."""
    assert turn.member is not None
    text = turn.text
    if text is None:
        turn.reply(turn.t("expect_text"))
        return
    if state.step == OrgStep.NEW_NAME:
        await create_named(turn, state, text)
        return
    edit = await organisations.answer_field(
        turn.session,
        turn.actor,
        int(state.data.get("org_id", 0)),
        str(state.data.get("key")),
        text,
        today=turn.today,
    )
    if edit.outcome == organisations.Outcome.REFUSED:
        await chat_state.clear_state(turn.session, turn.member.id)
        refuse(turn)
        return
    await _stored(turn, edit, walk=bool(state.data.get("walk")))


async def pick_choice(turn: Turn) -> None:
    """国企/民企 or 民办非/内设 pressed."""
    pressed = turn.button(ORG_CHOICE)
    if pressed is None or turn.member is None:
        return
    state = await chat_state.get_state(turn.session, turn.member.id)
    if (
        state is None
        or state.flow != FLOW
        or state.data.get("key") != pressed.key
        or state.data.get("org_id") != pressed.org
    ):
        # Not the question this chat is asking (an old button): nothing is read or stored.
        turn.notice(turn.t("button_expired"))
        return
    edit = await organisations.choose_field(
        turn.session, turn.actor, pressed.org, pressed.key, pressed.index
    )
    if edit.outcome == organisations.Outcome.REFUSED:
        refuse(turn)
        return
    if edit.outcome == organisations.Outcome.EXPIRED:
        turn.notice(turn.t(edit.key or "button_expired"))
        return
    turn.close_buttons()
    await _stored(turn, edit, walk=bool(state.data.get("walk")))


async def skip_field(turn: Turn) -> None:
    """跳过: leave this field for later and ask the next missing one."""
    pressed = turn.button(ORG_SKIP)
    if pressed is None:
        return
    org = await pressed_org(turn, pressed.org, Action.MANAGE_REGISTRY)
    if org is None or turn.member is None:
        return
    state = await chat_state.get_state(turn.session, turn.member.id)
    if state is None or state.flow != FLOW or state.data.get("key") != pressed.key:
        turn.notice(turn.t("button_expired"))
        return
    turn.close_buttons()
    await _next(turn, org, pressed.key)


async def _stored(turn: Turn, edit: organisations.FieldEdit, *, walk: bool) -> None:
    """After an answer: its error (the question stays), or 已保存 and the next missing field
    (walking) or the card."""
    assert turn.member is not None
    org, spec = edit.org, edit.spec
    if not edit.done or org is None or spec is None:
        turn.reply(turn.t(edit.key or "button_expired"))
        return
    turn.reply(turn.t("org_saved", label=turn.label(f"reg_f_{spec.key}")))
    if walk:
        await _next(turn, org, spec.key)
        return
    await chat_state.clear_state(turn.session, turn.member.id)
    show_card(turn, org)


async def _next(turn: Turn, org: Organisation, after: str) -> None:
    """Ask the next missing field after ``after`` (in the annex's order), or show the card."""
    assert turn.member is not None
    keys = [s.key for s in fields_for(org.kind)]
    position = keys.index(after) if after in keys else -1
    later = [s for s in missing_fields(org) if keys.index(s.key) > position]
    if later:
        await ask_field(turn, org, later[0], walk=True)
        return
    await chat_state.clear_state(turn.session, turn.member.id)
    show_card(turn, org)


async def cancel_registry(turn: Turn, state: ChatState) -> None:
    """/cancel in the ``org`` or ``district`` flow: everything answered is already stored."""
    assert turn.member is not None
    await chat_state.clear_state(turn.session, turn.member.id)
    turn.reply(turn.t("org_left"))


async def ask_again(turn: Turn, state: ChatState) -> None:
    """Repeat the current question of the ``org`` flow (nothing changes)."""
    if state.step == OrgStep.NEW_NAME:
        ask_name_again(turn, state)
        return
    org = await load_organisation(turn.session, int(state.data.get("org_id", 0)))
    spec = field_by_key(org.kind, str(state.data.get("key"))) if org else None
    if org is not None and spec is not None:
        await ask_field(turn, org, spec, walk=bool(state.data.get("walk")))
