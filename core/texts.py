"""The text catalog: every sentence a user sees, looked up by key in their language.

Catalog strings are Telegram HTML. Every value passed in is escaped here, so user text (names,
content) can never break a message; pass :class:`Raw` for a value that is already HTML.
"""

from __future__ import annotations

import html
import string
from collections.abc import Iterable
from typing import Any

from core.locales import en, zh

CATALOGS: dict[str, dict[str, str]] = {"zh": zh.TEXTS, "en": en.TEXTS}
DEFAULT_LANG = "zh"


class Raw(str):
    """A value that is already safe HTML (built from catalog strings and escaped values)."""

    __slots__ = ()


def esc(value: object) -> str:
    """Escape any value for Telegram HTML (``<``, ``>``, ``&``)."""
    if isinstance(value, Raw):
        return value
    return html.escape(str(value), quote=False)


class _Formatter(string.Formatter):
    """``str.format`` plus counted nouns: ``{n:report|reports}`` gives "1 report", "2 reports".

    English needs the noun to agree with the count; Chinese never writes a spec. A value that is
    not a whole number (a test's dummy) takes the plural.
    """

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" not in format_spec:
            return str(super().format_field(value, format_spec))
        one, many = format_spec.split("|", 1)
        return f"{value} {one if str(value).strip() in ('1', '-1') else many}"


_FORMATTER = _Formatter()


def t(lang: str | None, key: str, /, **params: Any) -> Raw:
    """The sentence ``key`` in ``lang`` (falling back to Chinese), with escaped parameters."""
    catalog = CATALOGS.get(lang or DEFAULT_LANG, CATALOGS[DEFAULT_LANG])
    template = catalog.get(key) or CATALOGS[DEFAULT_LANG][key]
    return Raw(_FORMATTER.format(template, **{k: esc(v) for k, v in params.items()}))


def plain(lang: str | None, key: str, /, **params: Any) -> str:
    """A catalog sentence for a place that takes no HTML (button labels, command menus)."""
    catalog = CATALOGS.get(lang or DEFAULT_LANG, CATALOGS[DEFAULT_LANG])
    template = catalog.get(key) or CATALOGS[DEFAULT_LANG][key]
    return _FORMATTER.format(template, **{k: str(v) for k, v in params.items()})


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a catalog string expects (used by the catalog consistency test)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def listing(lang: str | None, items: Iterable[str]) -> str:
    """Names run together the way the language lists them: 甲、乙 in Chinese, "a, b" in English."""
    return ("、" if (lang or DEFAULT_LANG) == "zh" else ", ").join(items)
