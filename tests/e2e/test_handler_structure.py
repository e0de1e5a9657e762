"""The handlers' shape (issue 9): buttons are codecs, flows' steps are enums, no import cycles
hidden inside functions — and the one reply that is plain text under the application's default
HTML parse mode. Modules are cut by feature, not by length: ``tests/unit/test_module_shape.py``
forbids re-export shims instead of capping lines (issue 21, item 6)."""

from __future__ import annotations

import ast
import importlib
import logging
import pkgutil
import re
from pathlib import Path

import pytest
from telegram.ext import CallbackQueryHandler

import handlers
from core.callbacks import Codec
from handlers.district import DistrictStep
from storage.registry import FIGURE_KEYS
from tests.harness import Kexie
from tests.journeys import make_invite

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = ROOT / "handlers"


def _handler_files() -> list[Path]:
    return sorted(HANDLERS.rglob("*.py"))


def test_no_button_data_is_split_by_hand() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _handler_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"""\.r?split\(\s*["']:["']""", line)
    ]
    assert found == []


def test_handlers_import_nothing_inside_functions() -> None:
    """An import inside a function is how a cycle hides (common ↔ router, invite ↔ registry)."""
    found = []
    for path in _handler_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Import | ast.ImportFrom):
                        found.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert found == []


def _imports_of(path: Path, package: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == package:
                names |= {f"{package}.{a.name}" for a in node.names}
            elif node.module.startswith(package + "."):
                names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith(package + ".")}
    return names


def test_handler_modules_import_each_other_without_cycles() -> None:
    modules = {
        info.name: Path(importlib.import_module(info.name).__file__ or "")
        for info in pkgutil.walk_packages(handlers.__path__, "handlers.")
    }
    graph = {
        name: {m for m in _imports_of(path, "handlers") if m in modules and m != name}
        for name, path in modules.items()
    }
    for package in (n for n, p in modules.items() if p.name == "__init__.py"):
        # A package's own modules are imported by its __init__; that is not a cycle.
        for name in graph:
            if name.startswith(package + "."):
                graph[name].discard(package)
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, " → ".join((*path, name))
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, (*path, name))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())


def test_the_district_steps_are_the_figures() -> None:
    assert [step.value for step in DistrictStep] == list(FIGURE_KEYS)


def _declared_codecs() -> dict[str, Codec[object]]:
    """Every codec declared at module level in handlers/ and core/, by pattern."""
    found: dict[str, Codec[object]] = {}
    for package in ("handlers", "core"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, package + "."):
            module = importlib.import_module(info.name)
            for value in vars(module).values():
                if isinstance(value, Codec):
                    found[value.pattern] = value
    return found


async def test_every_button_handler_is_registered_by_its_codec(kexie: Kexie) -> None:
    assert kexie.app is not None
    registered = [
        handler.pattern.pattern
        for group in kexie.app.handlers.values()
        for handler in group
        if isinstance(handler, CallbackQueryHandler) and isinstance(handler.pattern, re.Pattern)
    ]
    codecs = _declared_codecs()
    assert registered and [p for p in registered if p not in codecs] == []
    # …and each handler module's codec is answered by some handler (none drawn for nothing).
    unanswered = [
        c.template
        for p, c in codecs.items()
        if p not in registered and not c.template.startswith("settings:nudges")
    ]
    assert unanswered == []


async def test_the_qr_caption_is_plain_text_under_the_html_default(kexie: Kexie) -> None:
    """The caption is a plain label: an association named with ``&`` and ``<`` arrives as
    written, not as HTML the Bot API refuses."""
    name = "A&B<蓉城>科协"
    org = await kexie.org(name)
    admin = await kexie.member(4901, "org_admin", org=org)
    made = await make_invite(admin, name)
    assert name in made.text  # the message itself is HTML, its parameters escaped
    qr = await admin.expect()
    assert qr.media_type == "photo", qr.describe()
    assert qr.parse_mode is None
    assert name in qr.text and "扫码加入" in qr.text
    assert kexie.standin.errors == []


BEYOND_64_BITS = "9" * 19  # matches a codec's id (\d{1,19}) but is over 2**63 - 1


@pytest.mark.parametrize("role", ["reporter", "city_admin"])
async def test_ids_beyond_64_bits_in_every_button_read_as_expired(
    kexie: Kexie, caplog: pytest.LogCaptureFixture, role: str
) -> None:
    """A 19-digit id now reaches the handler (the old patterns stopped at 18 digits): its codec
    parses it as no such thing, and the press is answered like any stale button."""
    org = await kexie.org("蓉城材料科技有限公司科协")
    user = await kexie.member(4902, role, org=org if role == "reporter" else None)
    await user.send("/help")
    await user.expect_any("/")
    big = BEYOND_64_BITS
    forged = [
        f"mine:open:{big}", f"mine:withdraw_yes:{big}", f"org:open:{big}", f"org:fill:{big}",
        f"org:f:{big}:name", f"org:c:{big}:ownership:0", f"org:new:{big}:i",
        f"org:kind:{big}:e:o", f"dst:open:{big}", f"dst:set:{big}:zones", f"inv:org:{big}",
        f"inv:make:{big}:r:5:7", f"inv:revoke:{big}", f"mem:org:{big}", f"mem:rmyes:{big}",
        f"sts:open:{big}", f"exp:where:{big}", f"plan:org:{big}", f"plan:cancel:{big}",
        f"sched:{big}:resume", f"sched:{big}:plan",
    ]  # fmt: skip
    patterns = [
        h.pattern for g in kexie.app.handlers.values() for h in g  # type: ignore[union-attr]
        if isinstance(h, CallbackQueryHandler) and isinstance(h.pattern, re.Pattern)
    ]  # fmt: skip
    for data in forged:
        assert any(p.match(data) for p in patterns), data  # it does reach a handler
        caplog.clear()
        with caplog.at_level(logging.INFO):
            await user.press_data(data)
            answer = await user.expect_answer()
            await kexie.standin.wait_until_confirmed()
        assert "按钮已失效" in (answer.text or ""), data
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], data
        user.drain()
