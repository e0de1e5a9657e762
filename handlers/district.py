"""/district in chat: the year's district figures (属地企业数量, 科技企业数量, 产业功能区数量).

Flow ``district`` (:class:`DistrictStep`, drawn in ``district.mmd``): the step is the figure
being asked; the answer is committed when it arrives. The district in a button is checked
against the policy again on press.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.callbacks import Codec, id_codec
from core.policy import Action
from handlers.common import Turn
from handlers.pickers import district_buttons, pressed_district, refuse
from services import organisations
from storage import chat_state
from storage.models import ChatState, District
from storage.registry import FIGURE_KEYS, districts_for_actor, figures_of

DISTRICT_FLOW = "district"


class DistrictStep(StrEnum):
    """The stored steps of flow ``district``: the figure asked (``registry.FIGURE_KEYS``)."""

    LOCAL_ENTERPRISES = "local_enterprises"
    TECH_ENTERPRISES = "tech_enterprises"
    ZONES = "zones"


@dataclass(frozen=True)
class FigurePressed:
    """设置 one figure of a district."""

    district: int
    key: str


DST_OPEN = id_codec("dst:open")
DST_SET = Codec("dst:set:{district:id}:{key:" + "|".join(DistrictStep) + "}", FigurePressed)


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
    turn.reply(turn.t("district_pick"), district_buttons(districts, DST_OPEN))


async def open_district_pressed(turn: Turn) -> None:
    """A district from the picker."""
    pressed = turn.button(DST_OPEN)
    if pressed is None:
        return
    district = await pressed_district(turn, pressed.id, Action.DISTRICT_FIGURES)
    if district is None:
        return
    await show_figures(turn, district)


async def show_figures(turn: Turn, district: District) -> None:
    """属地企业数量 / 科技企业数量 / 产业功能区数量 of this year, each with a button."""
    year = turn.this_year
    # A read: a district that entered nothing this year gets no empty row for looking.
    row = await figures_of(turn.session, district.id, year)
    missing = turn.label("card_missing")

    def shown(key: str) -> object:
        value = None if row is None else getattr(row, key)
        return missing if value is None else value

    turn.reply(
        turn.t(
            "district_card",
            district=district.name,
            year=year,
            local=shown("local_enterprises"),
            tech=shown("tech_enterprises"),
            zones=shown("zones"),
        ),
        [
            [
                (
                    turn.label("btn_fig_set", label=turn.label(f"fig_{key}")),
                    DST_SET.pack(FigurePressed(district.id, key)),
                )
            ]
            for key in FIGURE_KEYS
        ],
    )


async def ask_figure(turn: Turn) -> None:
    """A figure's button: ask its value (the next message)."""
    pressed = turn.button(DST_SET)
    if pressed is None:
        return
    district = await pressed_district(turn, pressed.district, Action.DISTRICT_FIGURES)
    if district is None or turn.member is None:
        return
    step = DistrictStep(pressed.key)
    turn.close_buttons()
    year = turn.this_year
    await chat_state.set_state(
        turn.session,
        turn.member.id,
        DISTRICT_FLOW,
        step,
        None,
        {"district_id": district.id, "year": year},
    )
    turn.reply(
        turn.t("district_ask", district=district.name, year=year, label=turn.label(f"fig_{step}"))
    )


async def receive_figure(turn: Turn, state: ChatState) -> None:
    """A message in the ``district`` flow: the number asked for."""
    assert turn.member is not None
    year = int(state.data.get("year", turn.this_year))
    figure = await organisations.set_figure(
        turn.session,
        turn.actor,
        int(state.data.get("district_id", 0)),
        year,
        state.step,
        turn.text or "",
    )
    if figure.outcome == organisations.Outcome.REFUSED or figure.district is None:
        await chat_state.clear_state(turn.session, turn.member.id)
        refuse(turn)
        return
    if not figure.done:
        turn.reply(turn.t(figure.key or "reg_err_count"))
        return
    await chat_state.clear_state(turn.session, turn.member.id)
    turn.reply(turn.t("district_saved", label=turn.label(f"fig_{state.step}"), value=figure.value))
    await show_figures(turn, figure.district)


async def ask_again(turn: Turn, state: ChatState) -> None:
    """Repeat the current question of the ``district`` flow (nothing changes)."""
    district = await turn.session.get(District, int(state.data.get("district_id", 0)))
    if district is not None and state.step in FIGURE_KEYS:
        turn.reply(
            turn.t(
                "district_ask",
                district=district.name,
                year=state.data.get("year", turn.this_year),
                label=turn.label(f"fig_{state.step}"),
            )
        )
