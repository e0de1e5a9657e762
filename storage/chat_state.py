"""Where each member is in a conversation: the flow, the step and its data.

The database is the conversation state: it is written in the same transaction as the answer that
moved the member there, so a restart or a second instance continues at the exact step.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from storage.models import ChatState


async def get_state(session: AsyncSession, member_id: int) -> ChatState | None:
    """The member's conversation state, if they are in a flow."""
    return await session.get(ChatState, member_id)


def state_loaded_for_update(session: AsyncSession, member_id: int) -> ChatState | None:
    """The member's state if this session already holds it (and it is not deleted), else None;
    never runs a query.

    The turn loads the state with the member, for update (``storage.members.load_for_update``).
    A caller that finds it here changes its attributes in place and they are written at the
    commit with the answer, instead of :func:`set_state`'s ``get`` and flush: one statement
    less per step, and SQLite's write transaction starts later. The identity map is the only
    way to ask "is it already loaded" without a query.
    """
    state = session.identity_map.get(identity_key(ChatState, member_id))
    if isinstance(state, ChatState) and state in session and state not in session.deleted:
        return state
    return None


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
