"""Where each member is in a conversation: the flow, the step and its data.

The database is the conversation state: it is written in the same transaction as the answer that
moved the member there, so a restart or a second instance continues at the exact step.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChatState


async def get_state(session: AsyncSession, member_id: int) -> ChatState | None:
    """The member's conversation state, if they are in a flow."""
    return await session.get(ChatState, member_id)


async def set_state(
    session: AsyncSession,
    member_id: int,
    flow: str,
    step: str,
    activity_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> ChatState:
    """Record where the member is; committed with the answer that moved them there."""
    state = await session.get(ChatState, member_id)
    if state is None:
        state = ChatState(member_id=member_id, flow=flow, step=step)
        session.add(state)
    state.flow, state.step, state.activity_id = flow, step, activity_id
    state.data = dict(data or {})
    await session.flush()
    return state


async def clear_state(session: AsyncSession, member_id: int) -> None:
    """Leave any flow."""
    state = await session.get(ChatState, member_id)
    if state is not None:
        await session.delete(state)
        await session.flush()
