"""Route plain messages to the flow the member is in, as recorded in the database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers.common import Turn
from handlers.menus import home_buttons, idle_hint
from storage import chat_state
from storage.models import ChatState

FlowHandler = Callable[[Turn, ChatState], Awaitable[None]]

# Filled by handlers.routes.register_flows, the one table of every front's routes.
FLOWS: dict[str, FlowHandler] = {}
CANCELLERS: dict[str, FlowHandler] = {}
REPROMPTERS: dict[str, FlowHandler] = {}


def register_flow(
    name: str,
    on_message: FlowHandler,
    on_cancel: FlowHandler | None = None,
    on_reprompt: FlowHandler | None = None,
) -> None:
    """Make ``on_message`` receive the messages of members whose state is in flow ``name``.

    ``on_cancel`` handles /cancel inside the flow; ``on_reprompt`` asks the current question
    again (after a crash, when an update comes a second time).
    """
    FLOWS[name] = on_message
    if on_cancel is not None:
        CANCELLERS[name] = on_cancel
    if on_reprompt is not None:
        REPROMPTERS[name] = on_reprompt


async def reprompt(turn: Turn) -> None:
    """Ask the member's current question again; nothing is changed."""
    if turn.member is None:
        return
    state = await chat_state.get_state(turn.session, turn.member.id)
    again = REPROMPTERS.get(state.flow) if state else None
    if state is not None and again is not None:
        await again(turn, state)


async def in_flow(turn: Turn) -> bool:
    """Whether the member is in a flow that takes their next message as its answer."""
    if turn.member is None:
        return False
    state = await chat_state.get_state(turn.session, turn.member.id)
    return state is not None and state.flow in FLOWS


async def route_message(turn: Turn) -> None:
    """A message outside any command: the answer to the current question, or a hint."""
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    state = await chat_state.get_state(turn.session, turn.member.id)
    handler = FLOWS.get(state.flow) if state else None
    if state is None or handler is None:
        turn.reply(idle_hint(turn), await home_buttons(turn))
        return
    await handler(turn, state)


async def edited_message(turn: Turn) -> None:
    """Telegram's 编辑 on an answer already sent: the stored answer does not change by itself,
    so say how to change it instead of silently keeping the old value."""
    if turn.member is None:
        return
    state = await chat_state.get_state(turn.session, turn.member.id)
    if state is not None and state.flow == "report":
        turn.reply(turn.t("edited_message_hint"))


async def cancel(turn: Turn) -> None:
    """/cancel: leave whatever flow the member is in (each flow decides what to keep)."""
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    state = await chat_state.get_state(turn.session, turn.member.id)
    if state is None:
        turn.reply(turn.t("cancelled_nothing"))
        return
    canceller = CANCELLERS.get(state.flow)
    if canceller is not None:
        await canceller(turn, state)
        return
    await chat_state.clear_state(turn.session, turn.member.id)
    turn.reply(turn.t("flow_left"))
