"""The registry in chat: /org (annex 1-1 / 1-2 entry, field by field), /district (the year's
district figures), creating an association, and importing a spreadsheet sent as a file.

State lives in ``chat_states`` (flows ``org`` and ``district``); every answer is committed when
it arrives. The flows are drawn in ``registry.mmd`` beside this module.
Callback data: ``org:open:<org>``, ``org:fill:<org>``, ``org:edit:<org>``, ``org:f:<org>:<key>``,
``org:c:<org>:<key>:<i>``, ``org:skip:<org>:<key>``, ``org:new:<district>:<then>``,
``org:kind:<district>:<e|z>:<then>``, ``dst:open:<district>``, ``dst:set:<district>:<key>``.
Every id in a button is checked against the policy again on press.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from telegram.error import TelegramError

from core.enums import OrgKind
from core.policy import Action, allowed, district_target, org_target
from core.registry_rules import (
    MULTI_OFFICERS,
    FieldSpec,
    field_by_key,
    fields_for,
    parse_count,
    parse_field,
    parse_org_name,
)
from core.texts import Raw
from handlers.common import Buttons, Turn
from handlers.router import route_message
from storage import reports
from storage.importer import (
    MAX_FILE_BYTES,
    ImportResult,
    error_lines,
    import_registry,
    note_lines,
    read_sheet_isolated,
    sheet_district,
    sheet_result,
)
from storage.models import ChatState, District, Organisation
from storage.registry import (
    FIGURE_KEYS,
    RegistryError,
    create_organisation,
    display_value,
    district_figures,
    districts_for_actor,
    field_value,
    is_filled,
    load_organisation,
    missing_fields,
    orgs_for_actor,
    set_district_figure,
    set_field,
)

log = logging.getLogger(__name__)

FLOW = "org"
DISTRICT_FLOW = "district"
MAX_ORG_BUTTONS = 50
KIND_CODES = {"e": OrgKind.ENTERPRISE, "z": OrgKind.ZONE}
THEN_CARD, THEN_INVITE = "o", "i"  # what follows creating an association


# ---------------------------------------------------------------------------------------------
# shared helpers (also used by /invite, /members, /status)


def refuse(turn: Turn) -> None:
    """One sentence that reveals nothing: not whether the id exists, nor whose it is."""
    if turn.query is not None:
        turn.notice(turn.t("reg_denied"), alert=True)
    else:
        turn.reply(turn.t("reg_denied"))


def callback_parts(turn: Turn) -> list[str]:
    """The pressed button's data split at ``:``."""
    assert turn.query is not None and turn.query.data is not None
    return turn.query.data.split(":")


def org_buttons(orgs: list[Organisation], prefix: str) -> list[list[tuple[str, str]]]:
    """One button per association (``<prefix>:<org id>``), capped to keep the message short."""
    return [[(org.name[:60], f"{prefix}:{org.id}")] for org in orgs[:MAX_ORG_BUTTONS]]


def new_org_buttons(
    turn: Turn, districts: list[District], then: str
) -> list[list[tuple[str, str]]]:
    """``新建科协`` for each district the actor may create associations in (at most three)."""
    if not districts or len(districts) > 3:
        return []
    if len(districts) == 1:
        return [[(turn.label("btn_org_new"), f"org:new:{districts[0].id}:{then}")]]
    return [
        [(turn.label("btn_org_new_in", district=d.name), f"org:new:{d.id}:{then}")]
        for d in districts
    ]


async def pressed_org(turn: Turn, action: Action, index: int = 2) -> Organisation | None:
    """The association whose id is at ``index`` of the button data, if the presser may act on
    it now; otherwise refuse (the same way for a missing id and a forbidden one)."""
    try:
        org_id = int(callback_parts(turn)[index])
    except (IndexError, ValueError):
        turn.notice(turn.t("button_expired"))
        return None
    org = await load_organisation(turn.session, org_id)
    if (
        org is None
        or not org.active
        or not allowed(turn.actor, action, org_target(org.id, org.district_id))
    ):
        refuse(turn)
        return None
    return org


async def pressed_district(turn: Turn, action: Action, index: int = 2) -> District | None:
    """The district whose id is at ``index`` of the button data, if the presser may act on it."""
    try:
        district_id = int(callback_parts(turn)[index])
    except (IndexError, ValueError):
        turn.notice(turn.t("button_expired"))
        return None
    district = await turn.session.get(District, district_id)
    if district is None or not allowed(turn.actor, action, district_target(district.id)):
        refuse(turn)
        return None
    return district


def kind_label(turn: Turn, kind: str) -> str:
    """企业科协 / 产业功能区科协."""
    return turn.label(f"kind_{kind}")


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
    buttons = org_buttons(orgs, "org:open") + new_org_buttons(turn, districts, THEN_CARD)
    turn.reply(turn.t("org_pick" if orgs else "org_none"), buttons)


async def open_org(turn: Turn) -> None:
    """An association from the picker: its card."""
    org = await pressed_org(turn, Action.MANAGE_REGISTRY)
    if org is None:
        return
    show_card(turn, org)


def show_card(turn: Turn, org: Organisation, *, edit: bool = False) -> None:
    """Queue the registry card with its buttons."""
    buttons: list[list[tuple[str, str]]] = []
    if missing_fields(org):
        buttons.append([(turn.label("btn_org_fill"), f"org:fill:{org.id}")])
    buttons.append([(turn.label("btn_org_edit"), f"org:edit:{org.id}")])
    if edit:
        turn.edit(render_card(turn, org), buttons)
    else:
        turn.reply(render_card(turn, org), buttons)


def render_card(turn: Turn, org: Organisation) -> Raw:
    """Every annex field of the association, filled or marked missing, and what is left."""
    specs = fields_for(org.kind)
    missing = missing_fields(org)
    lines = [
        turn.t(
            "org_card_title",
            name=org.name,
            kind=kind_label(turn, org.kind),
            district=org.district.name,
            filled=len(specs) - len(missing),
            total=len(specs),
        ),
        "",
    ]
    for spec in specs:
        shown = display_value(field_value(org, spec))
        lines.append(
            turn.t(
                "card_line",
                label=turn.label(f"reg_f_{spec.key}"),
                value=shown if shown is not None else turn.label("card_missing"),
            )
        )
    lines.append("")
    if missing:
        labels = "、".join(turn.label(f"reg_f_{s.key}") for s in missing)
        lines.append(turn.t("org_card_missing", fields=labels))
    else:
        lines.append(turn.t("org_card_complete"))
    return Raw("\n".join(lines))


# ---------------------------------------------------------------------------------------------
# filling fields


async def fill_missing(turn: Turn) -> None:
    """逐项填写缺失项: ask the first missing field, then the next, until none is left."""
    org = await pressed_org(turn, Action.MANAGE_REGISTRY)
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
    org = await pressed_org(turn, Action.MANAGE_REGISTRY)
    if org is None:
        return
    row: list[tuple[str, str]] = []
    buttons: list[list[tuple[str, str]]] = []
    for spec in fields_for(org.kind):
        mark = "" if is_filled(org, spec) else "· "
        row.append((mark + turn.label(f"reg_f_{spec.key}"), f"org:f:{org.id}:{spec.key}"))
        if len(row) == 3:
            buttons.append(row)
            row = []
    if row:
        buttons.append(row)
    turn.reply(turn.t("org_edit_pick"), buttons)


async def choose_field(turn: Turn) -> None:
    """A field button: ask for that one field."""
    org = await pressed_org(turn, Action.MANAGE_REGISTRY)
    if org is None:
        return
    spec = field_by_key(org.kind, callback_parts(turn)[3])
    if spec is None:
        turn.notice(turn.t("button_expired"))
        return
    turn.close_buttons()
    await ask_field(turn, org, spec, walk=False)


async def ask_field(turn: Turn, org: Organisation, spec: FieldSpec, *, walk: bool) -> None:
    """Record which field is asked (committed) and ask it."""
    assert turn.member is not None
    await reports.set_state(
        turn.session,
        turn.member.id,
        FLOW,
        "field",
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
        buttons.append([(c, f"org:c:{org.id}:{spec.key}:{i}") for i, c in enumerate(spec.choices)])
    if walk:
        buttons.append([(turn.label("btn_org_skip"), f"org:skip:{org.id}:{spec.key}")])
    turn.reply(Raw("\n".join(parts)), buttons or None)


async def receive_answer(turn: Turn, state: ChatState) -> None:
    """A message in the ``org`` flow: an association's name, or the answer to a field."""
    assert turn.member is not None and turn.message is not None
    text = turn.message.text
    if text is None:
        turn.reply(turn.t("expect_text"))
        return
    if state.step == "new_name":
        await _create_named(turn, state, text)
        return
    org = await load_organisation(turn.session, int(state.data.get("org_id", 0)))
    spec = field_by_key(org.kind, str(state.data.get("key"))) if org else None
    if (
        org is None
        or spec is None
        or not allowed(turn.actor, Action.MANAGE_REGISTRY, org_target(org.id, org.district_id))
    ):
        await reports.clear_state(turn.session, turn.member.id)
        refuse(turn)
        return
    value, error = parse_field(spec, text, turn.today)
    if error:
        turn.reply(turn.t(error))
        return
    await _store(turn, org, spec, value, walk=bool(state.data.get("walk")))


async def pick_choice(turn: Turn) -> None:
    """国企/民企 or 民办非/内设 pressed."""
    org = await pressed_org(turn, Action.MANAGE_REGISTRY)
    if org is None or turn.member is None:
        return
    parts = callback_parts(turn)
    spec = field_by_key(org.kind, parts[3])
    state = await reports.get_state(turn.session, turn.member.id)
    if (
        spec is None
        or spec.kind != "choice"
        or state is None
        or state.flow != FLOW
        or state.data.get("key") != spec.key
        or state.data.get("org_id") != org.id
        or not parts[4].isdigit()
        or int(parts[4]) >= len(spec.choices)
    ):
        turn.notice(turn.t("button_expired"))
        return
    turn.close_buttons()
    await _store(turn, org, spec, spec.choices[int(parts[4])], walk=bool(state.data.get("walk")))


async def skip_field(turn: Turn) -> None:
    """跳过: leave this field for later and ask the next missing one."""
    org = await pressed_org(turn, Action.MANAGE_REGISTRY)
    if org is None or turn.member is None:
        return
    key = callback_parts(turn)[3]
    state = await reports.get_state(turn.session, turn.member.id)
    if state is None or state.flow != FLOW or state.data.get("key") != key:
        turn.notice(turn.t("button_expired"))
        return
    turn.close_buttons()
    await _next(turn, org, key)


async def _store(
    turn: Turn, org: Organisation, spec: FieldSpec, value: object, *, walk: bool
) -> None:
    assert turn.member is not None
    try:
        set_field(org, spec, value)
    except RegistryError as exc:
        turn.reply(turn.t(exc.key))
        return
    await turn.session.flush()
    turn.reply(turn.t("org_saved", label=turn.label(f"reg_f_{spec.key}")))
    if walk:
        await _next(turn, org, spec.key)
        return
    await reports.clear_state(turn.session, turn.member.id)
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
    await reports.clear_state(turn.session, turn.member.id)
    show_card(turn, org)


async def cancel_registry(turn: Turn, state: ChatState) -> None:
    """/cancel in the ``org`` or ``district`` flow: everything answered is already stored."""
    assert turn.member is not None
    await reports.clear_state(turn.session, turn.member.id)
    turn.reply(turn.t("org_left"))


# ---------------------------------------------------------------------------------------------
# creating an association


async def ask_new_kind(turn: Turn) -> None:
    """新建科协: which kind?"""
    district = await pressed_district(turn, Action.CREATE_ORG)
    if district is None:
        return
    then = callback_parts(turn)[3] if len(callback_parts(turn)) > 3 else THEN_CARD
    turn.close_buttons()
    turn.reply(
        turn.t("org_new_kind"),
        [
            [
                (kind_label(turn, kind), f"org:kind:{district.id}:{code}:{then}")
                for code, kind in KIND_CODES.items()
            ]
        ],
    )


async def ask_new_name(turn: Turn) -> None:
    """The kind was chosen: ask the name (the next message)."""
    district = await pressed_district(turn, Action.CREATE_ORG)
    if district is None or turn.member is None:
        return
    parts = callback_parts(turn)
    kind = KIND_CODES.get(parts[3])
    if kind is None:
        turn.notice(turn.t("button_expired"))
        return
    then = parts[4] if len(parts) > 4 and parts[4] in (THEN_CARD, THEN_INVITE) else THEN_CARD
    turn.close_buttons()
    await reports.set_state(
        turn.session,
        turn.member.id,
        FLOW,
        "new_name",
        None,
        {"district_id": district.id, "kind": kind.value, "then": then},
    )
    turn.reply(turn.t("org_new_name", kind=kind_label(turn, kind)))


async def _create_named(turn: Turn, state: ChatState, text: str) -> None:
    assert turn.member is not None
    district = await turn.session.get(District, int(state.data.get("district_id", 0)))
    if district is None or not allowed(turn.actor, Action.CREATE_ORG, district_target(district.id)):
        await reports.clear_state(turn.session, turn.member.id)
        refuse(turn)
        return
    name, error = parse_org_name(text)
    if error or name is None:
        turn.reply(turn.t(error or "reg_err_org_name"))
        return
    kind = OrgKind(state.data.get("kind", OrgKind.ENTERPRISE))
    try:
        created = await create_organisation(turn.session, district, kind, name)
    except RegistryError as exc:
        turn.reply(turn.t(exc.key, name=name))
        return
    await reports.clear_state(turn.session, turn.member.id)
    turn.reply(turn.t("org_created", kind=kind_label(turn, kind), name=created.name))
    org = await load_organisation(turn.session, created.id)
    assert org is not None
    if state.data.get("then") == THEN_INVITE:
        from handlers.invite import ask_role  # the invite flow continues with the new association

        ask_role(turn, org)
        return
    show_card(turn, org)


# ---------------------------------------------------------------------------------------------
# /district: the year's district figures


async def open_district(turn: Turn) -> None:
    """/district: the figures card of the administered district (or a picker)."""
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    districts = await districts_for_actor(turn.session, turn.actor, Action.DISTRICT_FIGURES)
    if not districts:
        turn.reply(turn.t("reg_admins_only"))
        return
    if len(districts) == 1:
        await show_figures(turn, districts[0])
        return
    turn.reply(turn.t("district_pick"), district_buttons(districts, "dst:open"))


def district_buttons(districts: list[District], prefix: str) -> Buttons:
    """Districts three to a row (``<prefix>:<district id>``)."""
    rows: list[list[tuple[str, str]]] = []
    for i in range(0, len(districts), 3):
        rows.append([(d.name, f"{prefix}:{d.id}") for d in districts[i : i + 3]])
    return rows


async def open_district_pressed(turn: Turn) -> None:
    """A district from the picker."""
    district = await pressed_district(turn, Action.DISTRICT_FIGURES)
    if district is None:
        return
    await show_figures(turn, district)


async def show_figures(turn: Turn, district: District) -> None:
    """属地企业数量 / 科技企业数量 / 产业功能区数量 of this year, each with a button."""
    year = turn.today.year
    row = await district_figures(turn.session, district.id, year)
    missing = turn.label("card_missing")

    def shown(value: int | None) -> object:
        return missing if value is None else value

    turn.reply(
        turn.t(
            "district_card",
            district=district.name,
            year=year,
            local=shown(row.local_enterprises),
            tech=shown(row.tech_enterprises),
            zones=shown(row.zones),
        ),
        [
            [
                (
                    turn.label("btn_fig_set", label=turn.label(f"fig_{key}")),
                    f"dst:set:{district.id}:{key}",
                )
            ]
            for key in FIGURE_KEYS
        ],
    )


async def ask_figure(turn: Turn) -> None:
    """A figure's button: ask its value (the next message)."""
    district = await pressed_district(turn, Action.DISTRICT_FIGURES)
    if district is None or turn.member is None:
        return
    key = callback_parts(turn)[3]
    if key not in FIGURE_KEYS:
        turn.notice(turn.t("button_expired"))
        return
    turn.close_buttons()
    year = turn.today.year
    await reports.set_state(
        turn.session,
        turn.member.id,
        DISTRICT_FLOW,
        key,
        None,
        {"district_id": district.id, "year": year},
    )
    turn.reply(
        turn.t("district_ask", district=district.name, year=year, label=turn.label(f"fig_{key}"))
    )


async def receive_figure(turn: Turn, state: ChatState) -> None:
    """A message in the ``district`` flow: the number asked for."""
    assert turn.member is not None and turn.message is not None
    district = await turn.session.get(District, int(state.data.get("district_id", 0)))
    if (
        district is None
        or not allowed(turn.actor, Action.DISTRICT_FIGURES, district_target(district.id))
        or state.step not in FIGURE_KEYS
    ):
        await reports.clear_state(turn.session, turn.member.id)
        refuse(turn)
        return
    value, error = parse_count(turn.message.text or "")
    if error or value is None:
        turn.reply(turn.t(error or "reg_err_count"))
        return
    year = int(state.data.get("year", turn.today.year))
    await set_district_figure(turn.session, district.id, year, state.step, value)
    await reports.clear_state(turn.session, turn.member.id)
    turn.reply(turn.t("district_saved", label=turn.label(f"fig_{state.step}"), value=value))
    await show_figures(turn, district)


# ---------------------------------------------------------------------------------------------
# a spreadsheet sent to the bot


async def receive_spreadsheet(turn: Turn) -> None:
    """An .xlsx / .xls document: a district or city admin's registry import (all-or-nothing).

    Inside a flow (e.g. as a report's evidence) the file belongs to that flow; from anyone else
    who may not import it is answered with who may. The file goes to a temporary file and is
    read in a bounded child process (``read_sheet_isolated``): the bot keeps its memory and its
    event loop. A city admin's sheet goes to the district its summary row names.
    """
    assert turn.message is not None and turn.message.document is not None
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    state = await reports.get_state(turn.session, turn.member.id)
    if state is not None:
        await route_message(turn)
        return
    districts = await districts_for_actor(turn.session, turn.actor, Action.IMPORT_REGISTRY)
    if not districts:
        turn.reply(turn.t("imp_admins_only"))
        return
    document = turn.message.document
    if document.file_size and document.file_size > MAX_FILE_BYTES:
        turn.reply(turn.t("imp_err_too_big"))
        return
    with tempfile.TemporaryDirectory(prefix="kexie-import-") as folder:
        path = Path(folder) / "registry.xlsx"
        try:
            tg_file = await turn.context.bot.get_file(document.file_id)
            await tg_file.download_to_drive(path)
        except TelegramError as exc:
            log.warning(
                "update %s: download failed (%s)", turn.update.update_id, type(exc).__name__
            )
            turn.reply(turn.t("imp_download_failed"))
            return
        sheet = await read_sheet_isolated(path, None, turn.today)
    if sheet.errors:
        _reply_failure(turn, sheet_result(sheet, None))
        return
    district: District | None = districts[0]
    if len(districts) > 1:
        named = await sheet_district(turn.session, sheet)
        district = next((d for d in districts if named is not None and d.id == named.id), None)
        if district is None:
            turn.reply(turn.t("imp_name_district"))
            return
    assert district is not None
    result = await import_registry(turn.session, district, None, sheet, turn.today)
    if not result.ok:
        _reply_failure(turn, result)
        return
    done = turn.t(
        "imp_done",
        annex=result.annex,
        district=district.name,
        created=len(result.created),
        updated=len(result.updated),
    )
    if result.notes:
        notes = turn.t("imp_merged_title", lines="\n".join(note_lines(result.notes, turn.label)))
        done = Raw(f"{done}\n\n{notes}")
    turn.reply(done)


def _reply_failure(turn: Turn, result: ImportResult) -> None:
    """A file refused as a whole gets its one sentence; problems in cells get the list."""
    if len(result.errors) == 1 and not result.errors[0].row:
        turn.reply(turn.t(result.errors[0].key, **result.errors[0].params))
        return
    lines = error_lines(result, turn.label, limit=25)
    turn.reply(turn.t("imp_failed", n=len(result.errors), lines="\n".join(lines)))


async def ask_again(turn: Turn, state: ChatState) -> None:
    """Repeat the current question of the ``org`` / ``district`` flow (nothing changes)."""
    if state.flow == DISTRICT_FLOW:
        district = await turn.session.get(District, int(state.data.get("district_id", 0)))
        if district is not None and state.step in FIGURE_KEYS:
            turn.reply(
                turn.t(
                    "district_ask",
                    district=district.name,
                    year=state.data.get("year", turn.today.year),
                    label=turn.label(f"fig_{state.step}"),
                )
            )
        return
    if state.step == "new_name":
        kind = OrgKind(state.data.get("kind", OrgKind.ENTERPRISE))
        turn.reply(turn.t("org_new_name", kind=kind_label(turn, kind)))
        return
    org = await load_organisation(turn.session, int(state.data.get("org_id", 0)))
    spec = field_by_key(org.kind, str(state.data.get("key"))) if org else None
    if org is not None and spec is not None:
        await ask_field(turn, org, spec, walk=bool(state.data.get("walk")))
