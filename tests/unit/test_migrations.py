"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storage.migrate import check, upgrade


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_migrations_match_models(backend: str | None, tmp_path: Path) -> None:
    url = backend or f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    await asyncio.to_thread(upgrade, url)
    await asyncio.to_thread(check, url)  # raises if autogenerate would find a difference
    await asyncio.to_thread(upgrade, url)  # running it again is a no-op
