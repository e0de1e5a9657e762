"""Modules are shaped by feature, not by a line cap (issue 21, item 6): a module may be long when
it holds one feature's piece of its layer, but no module forwards another's names. A name is
imported from the module that defines it; no re-export shims (``from a import X as X`` blocks,
``# noqa: E402`` imports after the code), no ``__all__`` listing borrowed names, no module that
is only imports.

Two kinds of forwarding stay, on purpose:
- ``storage.db`` names ``AsyncSession`` (and ``AsyncConnection``): the session (connection)
  type the layers above storage use, so that they import nothing of sqlalchemy (see the
  import-linter contracts in pyproject.toml);
- a package's ``__init__`` may gather its own submodules' names (``storage.models``, the
  ``handlers.report`` flow): that is the package's face, not a second home for a name.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = (
    "bot", "channels", "core", "storage", "exports", "scheduler", "services", "handlers", "web",
)  # fmt: skip
# Where imports are read from: the production code and everything that imports it.
READERS = (*PRODUCTION, "tests", "benchmarks", "scripts")
ALLOWED = {("storage.db", "AsyncSession"), ("storage.db", "AsyncConnection")}


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    defined: set[str] = field(default_factory=set)
    imported: dict[str, str] = field(default_factory=dict)  # local name → module it came from
    modules: set[str] = field(default_factory=set)  # local names that are modules (``asyncio``)

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"

    def forwards(self, name: str) -> bool:
        """Whether ``name`` is importable from here only because this module imported it."""
        if name in self.defined or name not in self.imported or name in self.modules:
            return False
        if (self.name, name) in ALLOWED:
            return False
        source = self.imported[name]
        # A package's face over its own submodules is not forwarding.
        return not (self.is_package and source.startswith(self.name + "."))


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except ImportError:  # the parent is not a package: a name, not a module
        return False


def _read(path: Path) -> Module:
    module = Module(_name(path), path, ast.parse(path.read_text(encoding="utf-8")))
    for node in module.tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            module.defined.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                module.defined |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    for node in ast.walk(module.tree):  # module-level and under `if TYPE_CHECKING:` alike
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                local = alias.asname or alias.name
                module.imported.setdefault(local, node.module)
                if _is_module(f"{node.module}.{alias.name}"):
                    module.modules.add(local)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                module.imported.setdefault(local, alias.name)
                module.modules.add(local)
    module.defined -= {"__all__"}
    return module


@cache
def _modules() -> dict[str, Module]:
    found = {}
    for top in PRODUCTION:
        for path in sorted((ROOT / top).rglob("*.py")):
            found[_name(path)] = _read(path)
    return found


def _files(tops: tuple[str, ...]) -> list[Path]:
    return [path for top in tops for path in sorted((ROOT / top).rglob("*.py"))]


def _through(path: Path) -> list[str]:
    """``module.name`` for every name this file takes from a module that only forwards it:
    ``from a import X`` and ``a.X`` (``from pkg import a`` / ``import pkg.a as a``) alike. A test
    that patches ``a.X`` (``monkeypatch.setattr(a, "X", …)``) patches the name where ``a`` looks
    it up; reading it there is not a re-export."""
    modules = _modules()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases: dict[str, str] = {}  # local name → production module it stands for
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                if target in modules:
                    aliases[alias.asname or alias.name] = target
                elif node.module in modules and modules[node.module].forwards(alias.name):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {target}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name in modules:
                    aliases[alias.asname] = alias.name
    patched = {
        (node.args[0].id, node.args[1].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "setattr"
        and len(node.args) >= 2
        and isinstance(node.args[0], ast.Name)
        and isinstance(node.args[1], ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) not in patched
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and modules[aliases[node.value.id]].forwards(node.attr)
        ):
            found.append(
                f"{path.relative_to(ROOT)}:{node.lineno} {aliases[node.value.id]}.{node.attr}"
            )
    return found


def test_names_are_imported_from_where_they_are_defined() -> None:
    """No file takes a name through a module that merely imported it (the re-export shim)."""
    found = [hit for path in _files(READERS) for hit in _through(path)]
    assert found == []


def test_all_lists_only_names_the_module_defines() -> None:
    found = []
    for module in _modules().values():
        for node in module.tree.body:
            if not (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
                and isinstance(node.value, ast.List | ast.Tuple)
            ):
                continue
            for item in node.value.elts:
                if isinstance(item, ast.Constant) and module.forwards(str(item.value)):
                    found.append(f"{module.name}.__all__: {item.value}")
    assert found == []


def test_no_explicit_reexport_imports() -> None:
    """``from a import X as X`` and imports marked ``# noqa: E402`` (an import after the code, the
    tail of a shim) are how a module re-exports; only the session type may."""
    found = []
    for module in _modules().values():
        lines = module.path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            where = f"{module.path.relative_to(ROOT)}:{node.lineno}"
            if any("noqa: E402" in line for line in lines[node.lineno - 1 : node.end_lineno]):
                found.append(f"{where} noqa: E402")
            for alias in node.names:
                if alias.asname == alias.name and (module.name, alias.name) not in ALLOWED:
                    found.append(f"{where} {alias.name} as {alias.asname}")
    assert found == []


def test_no_module_is_only_imports() -> None:
    """A module whose body is only imports (and ``__all__``) is a forwarding module (a package's
    ``__init__`` gathering its own submodules excepted)."""
    found = []
    for module in _modules().values():
        body = [n for n in module.tree.body if not _is_docstring(n)]
        if not module.imported or not all(
            isinstance(n, ast.Import | ast.ImportFrom) or _is_all(n) for n in body
        ):
            continue
        if module.is_package and all(
            source.startswith(module.name + ".") or source == "__future__"
            for source in module.imported.values()
        ):
            continue
        found.append(module.name)
    assert found == []


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def _is_all(node: ast.stmt) -> bool:
    return isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
    )
