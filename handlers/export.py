"""/export: district and city admins get annexes 1-1, 1-2, 1-3 and the evidence bundle in chat.

Steps (:class:`ExportStep`, ``export.mmd``): choose the annex, the year, and — for a city admin,
or an admin of several districts — the district or the whole city. The choices live in
``chat_states``. The message with the last pressed button becomes the progress message, edited
as the export runs in the background (``handlers/export_run.py``); the files then arrive as
documents.

Buttons: ``exp:annex:<13|11|12|all>``, ``exp:year:<YYYY>``, ``exp:where:<district id|city>``,
``exp:cancel`` (the codecs below), and ``export:start`` on the scheduler's messages. Every choice
is checked against the policy again when pressed. Where an admin may export and starting the run
(its policy check and job) are ``services/export.py``'s, shared with the console's export page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import partial

from core.callbacks import Codec, constant, id_codec
from core.rules import EARLIEST_DATE, normalize
from handlers.common import Turn
from handlers.export_run import ANNEX_KEYS, ExportTask, annex_label, first_progress, spawn
from handlers.pickers import district_buttons
from handlers.port import Buttons
from services import export as exporting
from storage import chat_state
from storage.models import ChatState

FLOW = "export"
YEARS_OFFERED = 3


class ExportStep(StrEnum):
    """The stored steps of flow ``export`` (states of ``export.mmd``)."""

    ANNEX = "annex"
    YEAR = "year"  # data: annex
    WHERE = "where"  # data: annex, year


@dataclass(frozen=True)
class AnnexChosen:
    """附件1-3 / 1-1 / 1-2 / 全部 (``all``)."""

    annex: str


@dataclass(frozen=True)
class YearChosen:
    """A year button."""

    year: int


EXP_ANNEX = Codec("exp:annex:{annex:" + "|".join(ANNEX_KEYS) + "}", AnnexChosen)
EXP_YEAR = Codec("exp:year:{year:year}", YearChosen)
EXP_WHERE = id_codec("exp:where")  # a district
EXP_WHERE_CITY = constant("exp:where:city")
EXP_CANCEL = constant("exp:cancel")
# 只导出已通过: a switch on the annex question (default off: approved and pending reports).
EXP_APPROVED = constant("exp:approved")


# ---------------------------------------------------------------------------------------------
# the conversation


async def start_export(turn: Turn) -> None:
    """/export: refuse outsiders and a second running export; else ask which annex."""
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    if (await exporting.places(turn.session, turn.actor)).empty:
        turn.reply(turn.t(exporting.Refusal.NOT_ALLOWED))
        return
    if await exporting.busy(turn.session, turn.member.id):
        turn.reply(turn.t(exporting.Refusal.BUSY))
        return
    await chat_state.set_state(turn.session, turn.member.id, FLOW, ExportStep.ANNEX, data={})
    turn.reply(turn.t("export_choose_annex"), _annex_buttons(turn))


def _annex_buttons(turn: Turn, approved_only: bool = False) -> Buttons:
    def annex(key: str) -> tuple[str, str]:
        return (turn.label(f"btn_export_{key}"), EXP_ANNEX.pack(AnnexChosen(key)))

    switch = "export_btn_approved_on" if approved_only else "export_btn_approved_off"
    return [
        [annex("13")],
        [annex("11"), annex("12")],
        [annex("all")],
        [(turn.label(switch), EXP_APPROVED.pack())],
        [(turn.label("btn_export_cancel"), EXP_CANCEL.pack())],
    ]


async def toggle_approved(turn: Turn) -> None:
    """只导出已通过 on the annex question: annex 1-3 keeps only reports the district approved."""
    state = await _state(turn)
    if state is None or turn.member is None or state.step != ExportStep.ANNEX:
        if state is not None:
            turn.notice(turn.t("button_expired"))
        return
    approved_only = not bool(state.data.get("approved_only"))
    await chat_state.set_state(
        turn.session,
        turn.member.id,
        FLOW,
        ExportStep.ANNEX,
        data={"approved_only": approved_only},
    )
    turn.edit(turn.t("export_choose_annex"), _annex_buttons(turn, approved_only))


def _approved_only(state: ChatState | None) -> bool:
    return bool(state is not None and state.flow == FLOW and state.data.get("approved_only"))


async def _state(turn: Turn) -> ChatState | None:
    """The member's export state, or None (and a toast) when the button is stale."""
    if turn.member is None:
        turn.notice(turn.t("button_expired"))
        return None
    state = await chat_state.get_state(turn.session, turn.member.id)
    if state is None or state.flow != FLOW:
        turn.notice(turn.t("button_expired"))
        return None
    return state


async def choose_annex(turn: Turn) -> None:
    """An annex was chosen: ask for the year (this year first)."""
    state = await _state(turn)
    if state is None or turn.member is None:
        return
    chosen = turn.button(EXP_ANNEX)
    if chosen is None:
        return
    annex = ANNEX_KEYS[chosen.annex]
    data: dict[str, object] = {"annex": annex, "approved_only": _approved_only(state)}
    await chat_state.set_state(turn.session, turn.member.id, FLOW, ExportStep.YEAR, data=data)
    this_year = turn.this_year
    buttons: list[list[tuple[str, str]]] = [
        [
            (
                turn.label("btn_export_year_current", year=this_year),
                EXP_YEAR.pack(YearChosen(this_year)),
            )
        ],
        [
            (turn.label("btn_export_year", year=year), EXP_YEAR.pack(YearChosen(year)))
            for year in range(this_year - 1, this_year - YEARS_OFFERED, -1)
        ],
        [(turn.label("btn_export_cancel"), EXP_CANCEL.pack())],
    ]
    turn.edit(turn.t("export_choose_year", annex=annex_label(turn.lang, annex)), buttons)


async def choose_year(turn: Turn) -> None:
    """A year button was pressed."""
    state = await _state(turn)
    if state is None:
        return
    if "annex" not in state.data:
        turn.notice(turn.t("button_expired"))
        return
    chosen = turn.button(EXP_YEAR)
    if chosen is None:
        return
    await _after_year(turn, str(state.data["annex"]), chosen.year)


async def _after_year(turn: Turn, annex: str, year: int) -> None:
    """A single-district admin starts now; a city admin (or one of several districts) chooses
    where."""
    assert turn.member is not None
    places = await exporting.places(turn.session, turn.actor)
    if places.single is not None:
        await _begin(turn, annex, year, places.single.id)
        return
    state = await chat_state.get_state(turn.session, turn.member.id)
    data = {"annex": annex, "year": year, "approved_only": _approved_only(state)}
    await chat_state.set_state(turn.session, turn.member.id, FLOW, ExportStep.WHERE, data=data)
    buttons: list[list[tuple[str, str]]] = []
    if places.city:
        buttons.append([(turn.label("btn_export_city"), EXP_WHERE_CITY.pack())])
    buttons += district_buttons(places.districts, EXP_WHERE)
    buttons.append([(turn.label("btn_export_cancel"), EXP_CANCEL.pack())])
    turn.edit(
        turn.t("export_choose_where", annex=annex_label(turn.lang, annex), year=year), buttons
    )


async def choose_where(turn: Turn) -> None:
    """A district (or the whole city) was chosen: start."""
    state = await _state(turn)
    if state is None:
        return
    if "annex" not in state.data or "year" not in state.data:
        turn.notice(turn.t("button_expired"))
        return
    if EXP_WHERE_CITY.parse(turn.pressed) is not None:
        district_id = None
    else:
        district = turn.button(EXP_WHERE)
        if district is None:
            return
        district_id = district.id
    await _begin(turn, str(state.data["annex"]), int(state.data["year"]), district_id)


async def cancel_button(turn: Turn) -> None:
    """取消 under any export question."""
    if turn.member is not None:
        state = await chat_state.get_state(turn.session, turn.member.id)
        if state is not None and state.flow == FLOW:
            await chat_state.clear_state(turn.session, turn.member.id)
    turn.edit(turn.t("export_cancelled"))


async def receive_message(turn: Turn, state: ChatState) -> None:
    """Typed text while choosing: a year may be typed (older years have no button); every other
    choice is a button."""
    text = normalize(turn.text or "")
    match = re.fullmatch(r"(\d{4})年?", text)
    if state.step == ExportStep.YEAR and "annex" in state.data and match:
        year = int(match.group(1))
        if EARLIEST_DATE.year <= year <= turn.this_year:
            await _after_year(turn, str(state.data["annex"]), year)
            return
    turn.reply(turn.t("export_use_buttons"))


async def cancel_export(turn: Turn, state: ChatState) -> None:
    """/cancel while choosing."""
    assert turn.member is not None
    await chat_state.clear_state(turn.session, turn.member.id)
    turn.reply(turn.t("export_cancelled"))


async def _begin(turn: Turn, annex: str, year: int, district_id: int | None) -> None:
    """Start the run (services.export checks the permission and claims the job); the pressed
    message becomes the progress one."""
    assert turn.member is not None
    approved_only = _approved_only(await chat_state.get_state(turn.session, turn.member.id))
    await chat_state.clear_state(turn.session, turn.member.id)
    started = await exporting.start_run(
        turn.session,
        turn.actor,
        annex=annex,
        year=year,
        district_id=district_id,
        approved_only=approved_only,
        years=turn.settings.years,
    )
    if isinstance(started, exporting.Refusal):
        turn.edit(turn.t(started))
        return
    where = started.district.name if started.district else turn.label("export_where_city")
    card = turn.card if turn.is_button else None
    task = ExportTask(
        job_id=started.job_id,
        chat=turn.address,
        message_id=card.ref if card else None,
        lang=turn.lang,
        scope=started.scope,
        annex=annex,
        heading=turn.label(
            "export_heading", annex=annex_label(turn.lang, annex), where=where, year=year
        ),
    )
    if task.message_id is not None:
        # The pressed question becomes the progress message at once (buttons gone).
        turn.edit(first_progress(task))
    turn.later(partial(spawn, turn.front, turn.db, turn.settings, task))
