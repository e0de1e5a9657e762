"""Where each member is in a conversation: the flow, the step and its data.

The database is the conversation state: it is written in the same transaction as the answer that
moved the member there, so a restart or a second instance continues at the exact step.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.column_writes import set_columns
from storage.models import ChatState

#: ``session.info`` key: the member whose turn found them in no flow
#: (``storage.members.load_for_update``, which loads the state with the member). The identity map
#: cannot hold "no row", so without it ``session.get`` would ask the database again.
NO_STATE = "no_chat_state"


async def get_state(session: AsyncSession, member_id: int) -> ChatState | None:
    """The member's conversation state, if they are in a flow."""
    if session.info.get(NO_STATE) == member_id:
        return None
    return await session.get(ChatState, member_id)


async def set_state(
    session: AsyncSession,
    member_id: int,
    flow: str,
    step: str,
    activity_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> ChatState:
    """Record where the member is; committed with the answer that moved them there.

    The turn loads the state with the member (``storage.members.load_for_update``): then this
    runs no query, and the change is a staged column write (:mod:`storage.column_writes`) that
    goes with the commit, not a flush of its own."""
    state = await get_state(session, member_id)
    values = {"flow": flow, "step": step, "activity_id": activity_id, "data": dict(data or {})}
    if state is not None:
        set_columns(session, state, values)
        return state
    state = ChatState(member_id=member_id, **values)
    session.add(state)
    session.info.pop(NO_STATE, None)
    await session.flush()
    return state


async def clear_state(session: AsyncSession, member_id: int) -> None:
    """Leave any flow."""
    state = await get_state(session, member_id)
    if state is not None:
        await session.delete(state)
        await session.flush()
    session.info[NO_STATE] = member_id
