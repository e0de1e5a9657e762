"""Issue 21: the reminder engine's and the reports' modules keep their rules and rendering; the
queries they read live in storage/ (storage/snapshot.py, storage/figures.py, storage/notices.py…).

Read from the source, not run: a module here may name ``AsyncSession`` / ``AsyncConnection``
(from ``storage.db``) to pass a session through, but imports nothing of sqlalchemy, builds no
statement and runs none itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Every scheduler module: the queries live in storage (issue 21).
SQL_FREE = tuple(
    path
    for path in sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "scheduler").glob("*.py"))
)
RUNS_SQL = {"execute", "scalar", "scalars", "stream", "stream_scalars"}
SESSION_NAMES = {"session", "conn", "db"}  # ``session.get(Model, id)`` loads a row


def sql_uses(path: Path) -> list[str]:
    """Where the module imports SQLAlchemy's query building or runs a statement."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            found.append(f"{node.lineno}: from {node.module} import")
        elif isinstance(node, ast.Import):
            found += [
                f"{node.lineno}: import {a.name}" for a in node.names if "sqlalchemy" in a.name
            ]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name, owner = node.func.attr, node.func.value
            if name in RUNS_SQL or (
                name == "get" and isinstance(owner, ast.Name) and owner.id in SESSION_NAMES
            ):
                found.append(f"{node.lineno}: .{name}(…)")
    return sorted(found, key=lambda line: int(line.split(":")[0]))


@pytest.mark.parametrize("module", SQL_FREE)
def test_module_runs_no_sql(module: str) -> None:
    assert sql_uses(ROOT / module) == []


def test_every_module_is_checked() -> None:
    """A new scheduler module is checked without being listed (and the list is not empty)."""
    assert {"scheduler/outbox.py", "scheduler/delivery.py", "scheduler/sender.py"} <= set(SQL_FREE)


def test_the_check_sees_a_query(tmp_path: Path) -> None:
    source = tmp_path / "q.py"
    source.write_text(
        "from sqlalchemy import select\n"
        "from sqlalchemy.ext.asyncio import AsyncSession\n"
        "async def f(session):\n"
        "    await session.get(A, 1)\n"
        "    return await session.scalar(select(A))\n",
        encoding="utf-8",
    )
    assert sql_uses(source) == [
        "1: from sqlalchemy import",
        "2: from sqlalchemy.ext.asyncio import",
        "4: .get(…)",
        "5: .scalar(…)",
    ]
