"""Telegram's text rules: UTF-16 lengths and its HTML parse mode, with its error wording."""

from __future__ import annotations

from tests.standin.types import JSONDict


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (how Telegram counts offsets and lengths)."""
    return len(text.encode("utf-16-le")) // 2


class HtmlParseError(ValueError):
    """Raised by :func:`parse_html` with Telegram's wording of the problem."""


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_HTML_SPACES = " \t\r\n\v\f"
_SIMPLE_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
}


def _decode_html_entity(text: str, pos: int) -> tuple[str | None, int]:
    """Decode the HTML entity starting at ``text[pos] == '&'`` the way Telegram does.

    Returns ``(character, position after the entity)`` or ``(None, pos)``.
    """
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        value = 0
        digits = 0
        if end < n and text[end] in "xX":
            end += 1
            while end < n and text[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(text[end], 16)
                end += 1
                digits += 1
                if value >= 0x10FFFF:
                    return None, pos
        else:
            while end < n and text[end].isascii() and text[end].isdigit():
                value = value * 10 + int(text[end])
                end += 1
                digits += 1
                if value >= 0x10FFFF:
                    return None, pos
        if digits == 0 or value == 0 or 0xD800 <= value <= 0xDFFF:
            return None, pos
        char = chr(value)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        name = text[pos + 1 : end]
        named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
        if name not in named:
            return None, pos
        char = named[name]
    if end < n and text[end] == ";":
        end += 1
    return char, end


def parse_html(source: str, *, strict: bool = True) -> tuple[str, list[JSONDict]]:
    """Parse Telegram-flavoured HTML into ``(plain_text, entities)``.

    Follows the Bot API server's parser (tdlib ``parse_html``): the supported tags, their
    attributes, ``&lt; &gt; &amp; &quot;`` and numeric entities, with Telegram's error
    messages (raised as :class:`HtmlParseError`).  Entity offsets/lengths are in UTF-16
    code units.  With ``strict`` (the default) an ``&`` that does not start an entity is
    an error, as the Bot API documentation demands; the real server lets it through.
    """
    out: list[str] = []
    u16 = 0
    entities: list[JSONDict] = []
    stack: list[tuple[str, str, int]] = []
    n = len(source)

    def boff(pos: int) -> int:
        return len(source[:pos].encode("utf-8"))

    i = 0
    while i < n:
        c = source[i]
        if c == "&":
            char, nxt = _decode_html_entity(source, i)
            if char is not None:
                out.append(char)
                u16 += utf16_len(char)
                i = nxt
                continue
            if strict:
                raise HtmlParseError(
                    f'Character "&" at byte offset {boff(i)} is not a part of an entity; '
                    'it must be escaped as "&amp;"'
                )
        if c != "<":
            out.append(c)
            u16 += utf16_len(c)
            i += 1
            continue
        begin = i
        i += 1
        if i < n and source[i] == "/":
            # End tag.
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {boff(begin)}")
            i += 1
            name_start = i
            while i < n and source[i] not in _HTML_SPACES and source[i] != ">":
                i += 1
            end_name = source[name_start:i].lower()
            while i < n and source[i] in _HTML_SPACES:
                i += 1
            if i >= n or source[i] != ">":
                raise HtmlParseError(f"Unclosed end tag at byte offset {boff(begin)}")
            i += 1
            tag, argument, start = stack[-1]
            if end_name and end_name != tag:
                raise HtmlParseError(
                    f"Unmatched end tag at byte offset {boff(begin)}, "
                    f'expected "</{tag}>", found "</{end_name}>"'
                )
            stack.pop()
            length = u16 - start
            if length > 0:
                _add_html_entity(entities, tag, argument, start, length)
            continue
        # Start tag.
        name_start = i
        while i < n and source[i] not in _HTML_SPACES and source[i] != ">":
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {boff(begin)}")
        tag = source[name_start:i].lower()
        if tag not in _HTML_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {boff(begin)}')
        argument = ""
        while True:
            while i < n and source[i] in _HTML_SPACES:
                i += 1
            if i >= n:
                raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {boff(begin)}')
            if source[i] == ">":
                break
            attr_start = i
            while i < n and source[i] not in _HTML_SPACES and source[i] not in "=>":
                i += 1
            attr_name = source[attr_start:i].lower()
            if not attr_name:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {boff(begin)}'
                )
            while i < n and source[i] in _HTML_SPACES:
                i += 1
            if i >= n or source[i] != "=":
                if tag == "blockquote" and attr_name == "expandable":
                    argument = "1"
                    continue
                raise HtmlParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {boff(begin)}'
                )
            i += 1
            while i < n and source[i] in _HTML_SPACES:
                i += 1
            if i >= n:
                raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {boff(begin)}')
            if source[i] not in "'\"":
                token_start = i
                while i < n and (
                    (source[i].isascii() and source[i].isalnum()) or source[i] in ".-"
                ):
                    i += 1
                value = source[token_start:i].lower()
                if i < n and source[i] not in _HTML_SPACES and source[i] != ">":
                    raise HtmlParseError(
                        f"Unexpected end of name token at byte offset {boff(token_start)}"
                    )
            else:
                quote = source[i]
                i += 1
                chars: list[str] = []
                while i < n and source[i] != quote:
                    if source[i] == "&":
                        char, nxt = _decode_html_entity(source, i)
                        if char is not None:
                            chars.append(char)
                            i = nxt
                            continue
                    chars.append(source[i])
                    i += 1
                if i < n:
                    i += 1
                value = "".join(chars)
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {boff(begin)}")
            if tag == "a" and attr_name == "href":
                argument = value
            elif tag == "code" and attr_name == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif tag == "tg-emoji" and attr_name == "emoji-id":
                argument = value
            elif tag == "blockquote" and attr_name == "expandable":
                argument = "1"
        i += 1  # skip '>'
        if tag == "span" and argument != "spoiler":
            raise HtmlParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {boff(begin)}'
            )
        if tag == "tg-emoji" and not argument.isdigit():
            raise HtmlParseError("Custom emoji entity must contain a valid custom emoji identifier")
        stack.append((tag, argument, u16))
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _add_html_entity(
    entities: list[JSONDict], tag: str, argument: str, offset: int, length: int
) -> None:
    entity: JSONDict = {"offset": offset, "length": length}
    if tag in _SIMPLE_ENTITY_TYPES:
        entity["type"] = _SIMPLE_ENTITY_TYPES[tag]
    elif tag == "a":
        if not argument:
            return
        entity["type"] = "text_link"
        entity["url"] = argument
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == offset
            and last["length"] == length
            and last.get("language")
        ):
            last["type"] = "pre"
            return
        entity["type"] = "pre"
    elif tag == "blockquote":
        entity["type"] = "expandable_blockquote" if argument else "blockquote"
    elif tag == "tg-emoji":
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = argument
    else:  # pragma: no cover - all tags handled above
        return
    if tag == "code" and argument:
        entity["language"] = argument
    entities.append(entity)


def html_to_text(source: str) -> str:
    """Plain text of Telegram HTML (lenient: never raises; used for display)."""
    try:
        return parse_html(source, strict=False)[0]
    except HtmlParseError:
        return source


def _utf16_slice_len(text: str, count: int) -> int:
    """Number of UTF-16 units in the first ``count`` characters of ``text``."""
    return utf16_len(text[:count])


def _trim(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Strip leading/trailing whitespace as Telegram does, fixing entity offsets."""
    stripped_left = text.lstrip(_HTML_SPACES)
    lead = _utf16_slice_len(text, len(text) - len(stripped_left))
    result = stripped_left.rstrip(_HTML_SPACES)
    total = utf16_len(result)
    fixed: list[JSONDict] = []
    for e in entities:
        start = max(0, e["offset"] - lead)
        end = min(total, e["offset"] + e["length"] - lead)
        if end > start:
            fixed.append({**e, "offset": start, "length": end - start})
    return result, fixed
