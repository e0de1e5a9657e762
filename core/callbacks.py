"""Typed button codecs: each kind of button is one :class:`Codec` with ``pack``, ``pattern``
and ``parse``, so its callback-data format is written once.

A codec is declared with a template and a frozen dataclass for its values::

    @dataclass(frozen=True)
    class RolePicked:
        activity: int
        index: int

    ROLE_PICKED = Codec("rep:{activity:id}:role:{index:digit}", RolePicked)
    ROLE_PICKED.pack(RolePicked(7, 2))   # "rep:7:role:2"
    ROLE_PICKED.pattern                  # "^rep:(\\d{1,18}):role:(\\d)$"  (for the router)
    ROLE_PICKED.parse("rep:7:role:2")    # RolePicked(activity=7, index=2)

``parse`` never raises: data that does not match, or an id beyond a 64-bit integer, or a date
that does not exist, is ``None`` — "no such thing" — so forged buttons read as not found.
Telegram allows 64 bytes of callback data; ``pack`` refuses more.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import date
from typing import Any, Generic, TypeVar

MAX_CALLBACK_BYTES = 64
MAX_ID = 2**63 - 1  # the database's BIGINT; a longer id names nothing

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class _Kind:
    regex: str
    read: Callable[[str], Any]
    write: Callable[[Any], str]


def _read_id(text: str) -> int:
    value = int(text)
    if value > MAX_ID:
        raise ValueError("id out of range")
    return value


def _write_int(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"not a non-negative integer: {value!r}")
    return str(value)


def _write_word(value: Any) -> str:
    text = str(value)
    if not re.fullmatch(r"\w{1,32}", text, re.ASCII):
        raise ValueError(f"not a word: {value!r}")
    return text


KINDS: dict[str, _Kind] = {
    "id": _Kind(r"\d{1,19}", _read_id, _write_int),
    "int": _Kind(r"\d{1,9}", int, _write_int),
    "digit": _Kind(r"\d", int, _write_int),
    "year": _Kind(r"\d{4}", int, _write_int),
    "word": _Kind(r"\w{1,32}", str, _write_word),
    "date": _Kind(r"\d{4}-\d\d-\d\d", date.fromisoformat, lambda d: d.isoformat()),
}

_FIELD = re.compile(r"\{(\w+):([\w|]+)\}")


class Codec(Generic[T]):
    """One kind of button: ``template`` fields are ``{name:kind}`` where kind is one of
    :data:`KINDS` or a choice ``a|b|c``; ``cls`` builds the parsed value from the fields."""

    def __init__(self, template: str, cls: Callable[..., T]) -> None:
        self.template = template
        self.cls = cls
        self.fields: list[tuple[str, _Kind | tuple[str, ...]]] = []
        parts: list[str] = []
        self._literals: list[str] = []
        pos = 0
        for match in _FIELD.finditer(template):
            self._literals.append(template[pos : match.start()])
            parts.append(re.escape(template[pos : match.start()]))
            name, kind = match.groups()
            spec: _Kind | tuple[str, ...]
            if kind in KINDS:
                spec = KINDS[kind]
                parts.append(f"({spec.regex})")
            else:
                spec = tuple(kind.split("|"))
                parts.append("(" + "|".join(re.escape(c) for c in spec) + ")")
            self.fields.append((name, spec))
            pos = match.end()
        self._literals.append(template[pos:])
        parts.append(re.escape(template[pos:]))
        #: The regular expression a ``CallbackQueryHandler`` matches this button kind with.
        self.pattern = "^" + "".join(parts) + "$"
        self._regex = re.compile(self.pattern)

    def pack(self, value: T | None = None, /, **fields: Any) -> str:
        """The callback data for ``value`` (or for the fields given by name)."""
        if value is not None:
            fields = {name: getattr(value, name) for name, _ in self.fields}
        out = self._literals[0]
        for (name, spec), literal in zip(self.fields, self._literals[1:], strict=True):
            raw = fields[name]
            if isinstance(spec, tuple):
                text = str(raw)
                if text not in spec:
                    raise ValueError(f"{name}={raw!r} is not one of {spec}")
            else:
                text = spec.write(raw)
            out += text + literal
        if len(out.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {out!r}")
        if not self._regex.match(out):
            raise ValueError(f"{out!r} does not match its own pattern {self.pattern}")
        return out

    def parse(self, data: str | None) -> T | None:
        """The typed value of ``data``, or ``None`` when it is not this kind or names nothing."""
        if data is None:
            return None
        match = self._regex.match(data)
        if match is None:
            return None
        values: dict[str, Any] = {}
        for (name, spec), text in zip(self.fields, match.groups(), strict=True):
            if isinstance(spec, tuple):
                values[name] = text
                continue
            try:
                values[name] = spec.read(text)
            except ValueError:
                return None
        return self.cls(**values)

    def __repr__(self) -> str:
        return f"Codec({self.template!r})"


@dataclasses.dataclass(frozen=True)
class Pressed:
    """A button that carries nothing but its kind (``menu:report``)."""


@dataclasses.dataclass(frozen=True)
class Id:
    """A button that names one thing by id (``mine:open:42``)."""

    id: int


def id_codec(prefix: str) -> Codec[Id]:
    """The common ``<prefix>:<id>`` button."""
    return Codec(prefix + ":{id:id}", Id)


def constant(data: str) -> Codec[Pressed]:
    """A button whose data is fixed."""
    return Codec(data, Pressed)
