"""Below the Telegram adapter nothing is named after Telegram (issue 21, item 3).

The tables and columns, and every function, class, parameter, keyword and class field of the
core, storage, scheduler and services packages, name a channel and an address, never Telegram.
Mentions of Telegram as one channel among others stay allowed: comments, docstrings, and the
value ``Channel.TELEGRAM`` (a constant spelled ``TELEGRAM``). The migrations of the old shape
(``storage/migrations/versions``) necessarily name the old columns and are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

from storage.models import Base

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "storage", "scheduler", "services")
# Names allowed with a reason: settings of the Telegram adapter itself (KEXIE_TELEGRAM_API_URL,
# where the Bot API is reached) are read with every other setting in core/settings.py.
ALLOWED = {("core/settings.py", "telegram_api_url")}


def _declared(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, name) of what a module declares or passes by name: functions, classes, their
    parameters, class fields, keyword arguments, and names bound by assignment or import."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.append((node.lineno, node.name))
            if isinstance(node, ast.ClassDef):
                for item in node.body:  # fields: ``telegram_id: int``, ``x = mapped_column()``
                    targets = item.targets if isinstance(item, ast.Assign) else []
                    if isinstance(item, ast.AnnAssign):
                        targets = [item.target]
                    found += [(t.lineno, t.id) for t in targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.arg):
            found.append((node.lineno, node.arg))
        elif isinstance(node, ast.keyword) and node.arg is not None:
            found.append((node.value.lineno, node.arg))
        elif isinstance(node, ast.alias):
            found.append((0, node.asname or node.name.rsplit(".", 1)[-1]))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            found.append((node.lineno, node.attr))
    return found


def telegram_names(root: Path = ROOT) -> list[str]:
    """Every declared name containing "telegram" in the packages below the adapter, as
    ``path:line name``; the channel's constant ``TELEGRAM`` is a value, not such a name."""
    offending = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if relative.startswith("storage/migrations/versions/"):
                continue
            for line, name in _declared(ast.parse(path.read_text(encoding="utf-8"))):
                if "telegram" not in name.lower() or name == "TELEGRAM":
                    continue
                if (relative, name) not in ALLOWED:
                    offending.append(f"{relative}:{line} {name}")
    return offending


def test_no_table_or_column_is_named_after_telegram() -> None:
    names = [table.name for table in Base.metadata.tables.values()]
    names += [f"{t.name}.{c.name}" for t in Base.metadata.tables.values() for c in t.columns]
    assert [n for n in names if "telegram" in n.lower()] == []


def test_no_function_field_or_parameter_below_the_adapter_is_named_after_telegram() -> None:
    assert telegram_names() == []


def test_the_check_sees_the_old_shape(tmp_path: Path) -> None:
    """The scan would have caught what item 3 removed: a hybrid property, a lookup function,
    a keyword argument and a dataclass field."""
    (tmp_path / "storage").mkdir()
    (tmp_path / "storage" / "old.py").write_text(
        "class Member:\n"
        "    telegram_account: object = None\n"
        "    def telegram_id(self) -> int: ...\n"
        "async def member_by_telegram_id(session, telegram_id: int): ...\n"
        "row = OutRow(chat_id=1, telegram_message_id=2)\n"
        "kind = Channel.TELEGRAM  # a value: allowed\n",
        encoding="utf-8",
    )
    for package in PACKAGES[:1] + PACKAGES[2:]:
        (tmp_path / package).mkdir()
    assert {n.split(" ")[1] for n in telegram_names(tmp_path)} == {
        "telegram_account",
        "telegram_id",
        "member_by_telegram_id",
        "telegram_message_id",
    }
