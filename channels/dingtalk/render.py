"""The catalog's HTML (Telegram's subset: ``<b>``, ``<i>``, ``<code>``, ``<a href>``…) as
DingTalk markdown, and a text with rows of buttons as a StandardCard's data.

DingTalk's markdown is a subset (headings, quotes, bold, italic, links, images, lists): a
single ``\\n`` is not a line break there, so each becomes ``"  \\n"`` (two spaces, the hard
break DingTalk's documentation recommends) and a blank line stays a paragraph. User text
reaches the catalog HTML-escaped (core.texts); here it is unescaped and then every character
that could start markdown is backslash-escaped, so a name such as ``*x*``, ``[a](b)``,
``# h`` or ``1. x`` reads as written and never changes the formatting. (That DingTalk's
renderer honours CommonMark's backslash escapes is taken from CommonMark, not yet seen on a
real DingTalk client; if it does not, a user sees a stray backslash, never a broken format.)
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from handlers.port import AppButton, Button, Buttons, html_to_plain

MAX_TITLE = 20  # characters of a markdown message's title (the notification's preview)
MAX_BUTTON_ID = 64  # bytes of a card button's id (DingTalk's actionId)

# Escaped wherever they are: emphasis, code, links, HTML, strikethrough, tables.
_INLINE = re.compile(r"([\\`*_\[\]<>~|])")
# Escaped at the start of a line only: headings, quotes, list items, setext underlines.
_LINE_START = re.compile(r"^([#>+=-])")
_ORDERED = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")
_MARKS = {"b": "**", "strong": "**", "i": "*", "em": "*"}


def escape(text: str, *, line_start: bool = True) -> str:
    """Plain text as DingTalk markdown that shows exactly this text. ``line_start``: whether
    the text begins a line (where ``#``, ``>``, ``-``, ``1.`` would start a block)."""
    lines = []
    for number, line in enumerate(text.split("\n")):
        line = _INLINE.sub(r"\\\1", line)
        if number or line_start:
            line = line.lstrip(" \t")  # four spaces would start a code block
            line = _ORDERED.sub(r"\1\\\2", _LINE_START.sub(r"\\\1", line))
        lines.append(line)
    return "\n".join(lines)


class _Converter(HTMLParser):
    """Catalog HTML → markdown. Each open tag collects its content in a frame of its own, so
    its markers are placed around the content with the surrounding spaces left outside
    (``** x**`` would not be bold) and left out for empty content."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.frames: list[tuple[str, dict[str, str], list[str]]] = [("", {}, [])]
        self.line_start = True  # whether the next text begins a line

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.handle_data("\n")
            return
        self.frames.append((tag, {k: v or "" for k, v in attrs}, []))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.handle_data("\n")

    def handle_endtag(self, tag: str) -> None:
        if not any(frame[0] == tag for frame in self.frames[1:]):
            return  # a stray closing tag: nothing to close
        while True:
            name, attrs, parts = self.frames.pop()
            self.frames[-1][2].append(_wrap(name, attrs, "".join(parts)))
            if name == tag:
                return

    def handle_data(self, data: str) -> None:
        frame = self.frames[-1]
        if frame[0] in ("code", "pre"):
            frame[2].append(data)  # raw until the code is closed (see _wrap)
        else:
            frame[2].append(_breaks(escape(data, line_start=self.line_start)))
        self.line_start = data.endswith("\n") or (self.line_start and not data.strip())

    def result(self) -> str:
        while len(self.frames) > 1:  # unclosed tags: close them
            name, attrs, parts = self.frames.pop()
            self.frames[-1][2].append(_wrap(name, attrs, "".join(parts)))
        return "".join(self.frames[0][2])


def _breaks(text: str) -> str:
    """Newlines as DingTalk shows them: a single one as a hard break, more as a paragraph."""
    return re.sub(r"\n+", lambda m: "  \n" if len(m.group()) == 1 else "\n\n", text)


def _outside(content: str) -> tuple[str, str, str]:
    """``content`` split into its leading whitespace, its core and its trailing whitespace."""
    core = content.strip()
    if not core:
        return content, "", ""
    start = content.index(core)
    return content[:start], core, content[start + len(core) :]


def _wrap(tag: str, attrs: dict[str, str], content: str) -> str:
    """A closed tag's content with its markdown."""
    if tag in _MARKS:
        before, core, after = _outside(content)
        return f"{before}{_MARKS[tag]}{core}{_MARKS[tag]}{after}" if core else content
    if tag in ("code", "pre"):
        # Inside a code span nothing is escaped; a backtick in it cannot be shown as code.
        if "`" in content or not content.strip():
            return _breaks(escape(content))
        if tag == "pre" or "\n" in content:
            return "\n\n```\n" + content.strip("\n") + "\n```\n\n"
        return f"`{content}`"
    if tag == "a" and (href := attrs.get("href", "")).startswith(("http://", "https://")):
        before, core, after = _outside(content)
        url = href.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        return f"{before}[{core or escape(href)}]({url}){after}"
    if tag == "blockquote":
        lines = content.strip().split("  \n")
        return "\n\n" + "  \n".join("> " + line for line in lines) + "\n\n"
    return content  # u, s, span, tg-spoiler…: DingTalk has no such style; the text stays


def markdown_of(html: str) -> str:
    """Catalog HTML as DingTalk markdown (user text escaped; see the module's docstring), at
    most :data:`MAX_MARKDOWN` characters: escaping lengthens a text the flows fitted to that
    many, and DingTalk refuses a longer message."""
    converter = _Converter()
    converter.feed(html)
    converter.close()
    markdown = converter.result().strip()
    if len(markdown) <= MAX_MARKDOWN:
        return markdown
    cut = markdown[: MAX_MARKDOWN - 1].rstrip("\\")  # never end on half an escape
    return cut + "…"


#: DingTalk's limit for one text or markdown message (and one card's text), in characters.
MAX_MARKDOWN = 5000


def title_of(html: str) -> str:
    """The first non-empty line as plain text, at most 20 characters: a markdown message's
    title (what the notification shows)."""
    for line in html_to_plain(html).split("\n"):
        if line := line.strip():
            return line if len(line) <= MAX_TITLE else line[: MAX_TITLE - 1] + "…"
    return "…"


def _button(button: Button, index: int) -> dict[str, Any]:
    if isinstance(button, AppButton):
        return {
            "type": "button",
            "label": {"type": "text", "text": button.label},
            "actionType": "openLink",
            "url": {"all": button.url},
            "id": f"link{index}",
        }
    label, data = button
    if len(data.encode()) > MAX_BUTTON_ID:
        raise ValueError(f"a button's data over {MAX_BUTTON_ID} bytes")
    return {
        "type": "button",
        "label": {"type": "text", "text": label},
        "actionType": "request",
        "status": "normal",
        "id": data,
    }


def card_data(html: str, buttons: Buttons | None) -> dict[str, Any]:
    """A StandardCard's data: the title (the text's first line), the text as one markdown
    block, one action block per row of buttons. A ``(label, data)`` button calls back with
    ``data`` as its id (≤ 64 bytes, else ValueError); an :class:`AppButton` opens its link.

    When the first line fits in the title it is not repeated in the markdown."""
    title = title_of(html)
    first, _, rest = html.strip().partition("\n")
    body = rest if rest.strip() and html_to_plain(first).strip() == title else html
    contents: list[dict[str, Any]] = [{"type": "markdown", "text": markdown_of(body), "id": "m0"}]
    links = 0
    for number, row in enumerate(buttons or ()):
        actions = []
        for button in row:
            actions.append(_button(button, links))
            links += isinstance(button, AppButton)
        if actions:
            contents.append({"type": "action", "actions": actions, "id": f"a{number}"})
    return {
        "config": {"autoLayout": True, "enableForward": False},
        "header": {"title": {"type": "text", "text": title}},
        "contents": contents,
    }


def buttons_of(card: dict[str, Any]) -> list[list[Button]]:
    """The rows of buttons of a card made by :func:`card_data`: ``(label, data)`` for a button
    that calls back, :class:`AppButton` for a link."""
    rows: list[list[Button]] = []
    for block in card.get("contents", ()):
        if block.get("type") != "action":
            continue
        row: list[Button] = []
        for action in block.get("actions", ()):
            label = action.get("label", {}).get("text", "")
            if action.get("actionType") == "openLink":
                row.append(AppButton(label, action.get("url", {}).get("all", "")))
            else:
                row.append((label, action.get("id", "")))
        rows.append(row)
    return rows
