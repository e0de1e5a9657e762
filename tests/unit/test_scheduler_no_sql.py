"""Issue 21: the reminder engine's and the reports' modules keep their rules and rendering; the
queries they read live in storage/ (storage/snapshot.py, storage/figures.py, storage/notices.py…).

Read from the source, not run: a module here may import ``AsyncSession`` / ``AsyncConnection``
to pass a session through, but builds no statement and runs none itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The scheduler modules already free of SQL; the others (outbox, delivery, render…) move next.
SQL_FREE = (
    "scheduler/notices.py",
    "scheduler/reminders.py",
    "scheduler/snapshot.py",
    "scheduler/countdown.py",
    "scheduler/charts.py",
    "scheduler/digest_message.py",
    "scheduler/review_render.py",
    "scheduler/chase.py",
    "scheduler/reachability.py",
)
ALLOWED_SQLALCHEMY = {"sqlalchemy.ext.asyncio"}  # the session's type, passed through
RUNS_SQL = {"execute", "scalar", "scalars", "stream", "stream_scalars"}
SESSION_NAMES = {"session", "conn", "db"}  # ``session.get(Model, id)`` loads a row


def sql_uses(path: Path) -> list[str]:
    """Where the module imports SQLAlchemy's query building or runs a statement."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            if node.module not in ALLOWED_SQLALCHEMY:
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


def test_the_check_sees_a_query(tmp_path: Path) -> None:
    source = tmp_path / "q.py"
    source.write_text(
        "from sqlalchemy import select\n"
        "async def f(session):\n"
        "    await session.get(A, 1)\n"
        "    return await session.scalar(select(A))\n",
        encoding="utf-8",
    )
    assert sql_uses(source) == ["1: from sqlalchemy import", "3: .get(…)", "4: .scalar(…)"]
