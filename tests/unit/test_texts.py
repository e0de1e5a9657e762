"""Consistency of the text catalogs (``bot/locales/zh.py`` and ``en.py``).

Every sentence a user sees lives in both catalogs under the same key with the same
``{placeholders}``.  Catalog strings are Telegram HTML unless they are button labels or
command-menu descriptions, which Telegram shows as plain text.  These tests check what
Telegram would reject (bad HTML, over-long texts, bad command descriptions) before a real
user ever meets it, using the same HTML parser as the Bot API stand-in.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core import texts
from core.locales import en, zh
from core.texts import Raw, esc, placeholders, plain, t
from tests.standin import (
    MAX_MESSAGE_LENGTH,
    HtmlParseError,
    parse_html,
    utf16_len,
)

LANGS = ("zh", "en")
REPO = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("bot", "handlers", "storage", "scheduler", "exports", "services")

# Keys shown as plain text (inline-keyboard buttons, menus); the rest is Telegram HTML.
LABEL_PREFIXES = ("btn_", "cmd_", "label_", "role_", "kind_", "status_", "welcome_buttons_")
DUMMY = "<&>"
DUMMY_ESCAPED = "&lt;&amp;&gt;"

_TAG = re.compile(r"</?[A-Za-z][\w-]*(?:\s[^<>]*)?>")
_ENTITY = re.compile(r"&(?:[A-Za-z]+|#\d+|#[xX][0-9A-Fa-f]+);")
# turn.label("key"), plain(lang, "key"), turn.t("key"), t(lang, "key") -- literal keys only.
_LANG_ARG = r'(?:(?:[\w.]+|"[a-z]{2}")\s*,\s*)?'
_LABEL_CALL = re.compile(r"(?:\.label|\bplain)\(\s*" + _LANG_ARG + r'"([a-z][a-z0-9_]*)"')
_LABEL_FSTRING = re.compile(r"(?:\.label|\bplain)\(\s*" + _LANG_ARG + r'f"([a-z][a-z0-9_]*)\{')
_HTML_CALL = re.compile(r"(?:\.t|\bt)\(\s*" + _LANG_ARG + r'"([a-z][a-z0-9_]*)"')


def _sources() -> list[Path]:
    files: list[Path] = []
    for name in SOURCE_DIRS:
        files += sorted((REPO / name).rglob("*.py"))
    return [f for f in files if "locales" not in f.parts]


def _uses() -> dict[str, list[tuple[str, str]]]:
    """Catalog keys the code names literally: ``{"label"|"html": [(file, key), ...]}``,
    plus ``"prefix"`` for keys built with an f-string (``turn.label(f"status_{...}")``)."""
    found: dict[str, list[tuple[str, str]]] = {"label": [], "html": [], "prefix": []}
    for path in _sources():
        code = path.read_text(encoding="utf-8")
        where = str(path.relative_to(REPO))
        found["label"] += [(where, k) for k in _LABEL_CALL.findall(code)]
        found["prefix"] += [(where, k) for k in _LABEL_FSTRING.findall(code)]
        found["html"] += [(where, k) for k in _HTML_CALL.findall(code)]
    return found


USES = _uses()


def label_keys(catalog: dict[str, str]) -> set[str]:
    """Keys shown as plain text: those the code passes to ``label``/``plain``, and those named
    like labels (``btn_`` …) unless the code only ever sends them as HTML messages."""
    prefixes = LABEL_PREFIXES + tuple(p for _, p in USES["prefix"] if p)
    as_label = {k for _, k in USES["label"]}
    only_html = {k for _, k in USES["html"]} - as_label
    return {k for k in catalog if k in as_label or (k.startswith(prefixes) and k not in only_html)}


def html_keys(catalog: dict[str, str]) -> set[str]:
    """Keys rendered as Telegram HTML: all but labels, plus labels the code also sends as HTML."""
    used_as_html = {k for _, k in USES["html"]}
    labels = label_keys(catalog)
    return {k for k in catalog if k not in labels or k in used_as_html}


def dummy_params(template: str) -> dict[str, str]:
    return dict.fromkeys(placeholders(template), DUMMY)


# ---------------------------------------------------------------------------------------------
# (a) same keys, (b) same placeholders


def test_english_and_chinese_have_the_same_keys() -> None:
    missing = sorted(set(zh.TEXTS) - set(en.TEXTS))
    extra = sorted(set(en.TEXTS) - set(zh.TEXTS))
    problems = []
    if missing:
        problems.append(f"{len(missing)} key(s) in zh.py missing from en.py: {', '.join(missing)}")
    if extra:
        problems.append(f"{len(extra)} key(s) in en.py not in zh.py: {', '.join(extra)}")
    assert not problems, "\n".join(problems)


def test_english_and_chinese_have_the_same_placeholders() -> None:
    wrong = [
        f"{key}: zh {sorted(placeholders(zh.TEXTS[key]))} en {sorted(placeholders(en.TEXTS[key]))}"
        for key in sorted(set(zh.TEXTS) & set(en.TEXTS))
        if placeholders(zh.TEXTS[key]) != placeholders(en.TEXTS[key])
    ]
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_english_and_chinese_use_the_same_html_tags() -> None:
    # The same kinds of markup (bold title, <code> examples); a translation may drop an example.
    def tags(text: str) -> list[str]:
        return sorted({m.group(0).lower() for m in _TAG.finditer(text)})

    wrong = [
        f"{key}: zh {tags(zh.TEXTS[key])} en {tags(en.TEXTS[key])}"
        for key in sorted(set(zh.TEXTS) & set(en.TEXTS))
        if tags(zh.TEXTS[key]) != tags(en.TEXTS[key])
    ]
    assert not wrong, "HTML tags differ:\n" + "\n".join(wrong)


def test_placeholders_are_named() -> None:
    # t() passes keyword arguments only: "{}" or "{0}" would raise at runtime.
    wrong = [
        f"{lang}:{key}"
        for lang, catalog in texts.CATALOGS.items()
        for key, template in catalog.items()
        if any(not name.isidentifier() for name in placeholders(template)) or "{}" in template
    ]
    assert not wrong, "positional placeholders: " + ", ".join(wrong)


# ---------------------------------------------------------------------------------------------
# (c) valid Telegram HTML, lengths, labels, command descriptions


@pytest.mark.parametrize("lang", LANGS)
def test_every_html_string_renders_to_valid_telegram_html(lang: str) -> None:
    catalog = texts.CATALOGS[lang]
    problems: list[str] = []
    for key in sorted(html_keys(catalog)):
        template = catalog[key]
        try:
            rendered = t(lang, key, **dummy_params(template))
        except (KeyError, IndexError, ValueError) as exc:
            problems.append(f"{key}: cannot be formatted ({exc!r})")
            continue
        if placeholders(template) and DUMMY in rendered:
            problems.append(f"{key}: a parameter was not escaped")
        if placeholders(template) and DUMMY_ESCAPED not in rendered:
            problems.append(f"{key}: the escaped parameter is missing from {rendered!r}")
        try:
            text, _ = parse_html(rendered)
        except HtmlParseError as exc:
            problems.append(f"{key}: {exc} in {rendered!r}")
            continue
        if utf16_len(text) > MAX_MESSAGE_LENGTH:
            problems.append(f"{key}: {utf16_len(text)} characters > {MAX_MESSAGE_LENGTH}")
        if not text.strip():
            problems.append(f"{key}: renders to an empty message")
    hint = "(in HTML strings write & as &amp;, e.g. S&amp;T; button labels take a plain &)"
    assert not problems, f"{lang} catalog {hint}:\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", LANGS)
def test_labels_are_plain_text(lang: str) -> None:
    catalog = texts.CATALOGS[lang]
    problems: list[str] = []
    for key in sorted(label_keys(catalog)):
        template = catalog[key]
        if _TAG.search(template):
            problems.append(
                f"{key}: HTML tag in a plain-text label: {template!r} (keys named "
                f"{'/'.join(LABEL_PREFIXES)}… are button labels; rename a message key)"
            )
        if _ENTITY.search(template):
            problems.append(f"{key}: HTML entity in a plain-text label: {template!r}")
        try:
            rendered = plain(lang, key, **dummy_params(template))
        except (KeyError, IndexError, ValueError) as exc:
            problems.append(f"{key}: cannot be formatted ({exc!r})")
            continue
        if not rendered.strip():
            problems.append(f"{key}: empty label")
    assert not problems, f"{lang} catalog:\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", LANGS)
def test_command_descriptions_fit_telegram(lang: str) -> None:
    catalog = texts.CATALOGS[lang]
    commands = sorted(k for k in catalog if k.startswith("cmd_"))
    assert commands, "no cmd_* keys in the catalog"
    wrong = [
        f"{key}: {len(plain(lang, key).strip())} characters ({catalog[key]!r})"
        for key in commands
        if not 3 <= len(plain(lang, key).strip()) <= 256
    ]
    assert not wrong, "command descriptions must be 3-256 characters:\n" + "\n".join(wrong)


def test_label_detection_finds_the_known_button_labels() -> None:
    # Guards the source scan above: if it silently found nothing, label checks would be weak.
    labels = label_keys(zh.TEXTS)
    assert {"btn_submit", "cmd_report", "welcome_buttons_report", "mine_item"} <= labels
    assert "help" not in labels and "welcome" not in labels
    assert "role_line" in html_keys(zh.TEXTS)  # a role_* key the code sends as HTML
    assert "role_line" not in labels


def test_every_key_the_code_names_is_in_the_chinese_catalog() -> None:
    used = USES["label"] + USES["html"]
    assert used, "the source scan found no catalog lookups at all"
    missing = sorted({f"{where}: {key}" for where, key in used if key not in zh.TEXTS})
    assert not missing, "keys used in code but not in zh.py:\n" + "\n".join(missing)


# ---------------------------------------------------------------------------------------------
# (d) t escapes parameters; Raw passes through


def test_t_escapes_parameters() -> None:
    out = t("zh", "card_line", label="<b>A&B</b>", value='<a href="x">x</a>')
    assert out == '<b>&lt;b&gt;A&amp;B&lt;/b&gt;</b>：&lt;a href="x"&gt;x&lt;/a&gt;'
    assert isinstance(out, Raw)
    parse_html(out)


def test_t_passes_raw_through() -> None:
    inner = t("zh", "card_line", label="x", value="<y>")
    out = t("zh", "card_line", label="标签", value=Raw("<i>斜体</i>"))
    assert out == "<b>标签</b>：<i>斜体</i>"
    assert esc(inner) is inner
    assert t("zh", "joined", what=inner) == f"✅ 已加入：{inner}。"


def test_plain_does_not_escape() -> None:
    assert plain("zh", "mine_item", date="11月3日", name="A&B <x>", status="已提交", late="") == (
        "已提交 · 11月3日 · A&B <x>"
    )


def test_english_falls_back_to_chinese_for_a_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(en.TEXTS, "btn_submit", raising=False)
    assert plain("en", "btn_submit") == zh.TEXTS["btn_submit"]
    assert t("xx", "not_allowed") == zh.TEXTS["not_allowed"]
    assert t(None, "not_allowed") == zh.TEXTS["not_allowed"]
