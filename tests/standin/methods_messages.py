"""Bot API methods that send, edit and delete messages, with Telegram's checks of text,
captions, keyboards and replies."""

from __future__ import annotations

import contextlib
import dataclasses
import re
import time
from typing import TYPE_CHECKING, Any

from tests.standin.constants import (
    MAX_CAPTION_LENGTH,
    MAX_MESSAGE_LENGTH,
    NOT_MODIFIED_DESCRIPTION,
)
from tests.standin.html import HtmlParseError, _trim, parse_html, utf16_len
from tests.standin.media import FileStore
from tests.standin.types import (
    ApiError,
    BotMessage,
    Button,
    JSONDict,
    StoredFile,
    _bad,
    web_app_url_ok,
)

if TYPE_CHECKING:
    from tests.standin.users import FakeUser

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_INLINE_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "callback_game",
    "pay",
    "web_app",
    "copy_text",
)


def _web_app_url(button: JSONDict) -> str | None:
    app = button.get("web_app")
    return app.get("url") if isinstance(app, dict) else None


class MessageMethods(FileStore):
    """sendMessage, sendPhoto, sendDocument, sendMediaGroup, sendChatAction, the edits and
    the deletes."""

    # -- checks -------------------------------------------------------------------------------

    def _formatted(
        self,
        raw: Any,
        parse_mode: Any,
        entities: Any,
        *,
        caption: bool,
    ) -> tuple[str | None, list[JSONDict], str | None]:
        """Validate text/caption; return ``(plain or None, entities, raw)``."""
        limit = MAX_CAPTION_LENGTH if caption else MAX_MESSAGE_LENGTH
        if raw is None or raw == "":
            if caption:
                return None, [], None
            raise _bad("message text is empty")
        if not isinstance(raw, str):
            raw = str(raw)
        mode = (parse_mode or "").strip().lower() if isinstance(parse_mode, str) else ""
        if mode == "html":
            try:
                plain, ents = parse_html(raw, strict=self.strict_html)
            except HtmlParseError as exc:
                raise _bad(f"can't parse entities: {exc}") from exc
        elif mode:
            if mode in ("markdown", "markdownv2"):
                raise _bad(
                    f"can't parse entities: the Telegram stand-in does not implement "
                    f"parse_mode {parse_mode}; use HTML"
                )
            raise _bad(f"unsupported parse_mode {parse_mode}")
        else:
            plain = raw
            ents = [dict(e) for e in entities] if isinstance(entities, list) else []
        plain, ents = _trim(plain, ents)
        if not plain:
            if caption:
                return None, [], raw
            raise _bad("message text is empty")
        if utf16_len(plain) > limit:
            raise _bad("message caption is too long" if caption else "message is too long")
        return plain, ents, raw

    def _markup(self, markup: Any) -> JSONDict | None:
        """Validate ``reply_markup``; return it normalised (or None)."""
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad(
                    'can\'t parse inline keyboard button: field "inline_keyboard" '
                    "must be an Array of Arrays"
                )
            count = 0
            for row in rows:
                for button in row:
                    count += 1
                    self._check_inline_button(button)
            if count > 100:
                raise _bad("reply markup is too long")
            return {"inline_keyboard": rows}
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad("can't parse reply keyboard markup JSON object")
            for row in rows:
                for b in row:
                    label = b.get("text") if isinstance(b, dict) else b
                    if not isinstance(label, str) or not label:
                        raise _bad(
                            'can\'t parse keyboard button: Field "text" must be of type String'
                        )
            return markup
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return markup
        raise _bad("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict):
            raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        text = button.get("text")
        if not isinstance(text, str):
            raise _bad("can't parse inline keyboard button: Can't find field \"text\"")
        if not text.strip():
            raise _bad("BUTTON_TEXT_INVALID")
        actions = [k for k in _INLINE_BUTTON_ACTIONS if k in button and button[k] is not None]
        if not actions:
            raise _bad(
                "can't parse inline keyboard button: Text buttons are unallowed in the "
                "inline keyboard"
            )
        if "callback_data" in actions:
            data = button["callback_data"]
            if not isinstance(data, str) or not data or len(data.encode("utf-8")) > 64:
                raise _bad("BUTTON_DATA_INVALID")
        if "url" in actions:
            url = button["url"]
            if not isinstance(url, str) or not re.match(r"^(https?|tg)://[^\s]+$", url):
                raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
        if "web_app" in actions:
            app = button["web_app"]
            url = app.get("url") if isinstance(app, dict) else None
            if not isinstance(url, str) or not web_app_url_ok(url):
                raise _bad(
                    f"inline keyboard button Web App URL '{url}' is invalid: "
                    "Only HTTPS links are allowed"
                )

    def _reply_to(self, u: FakeUser, params: JSONDict) -> int | None:
        reply = params.get("reply_parameters")
        mid: Any = None
        allow = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            mid = reply.get("message_id")
            allow = allow or bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id") is not None:
            mid = params["reply_to_message_id"]
        if mid is None:
            return None
        bm = u._bot_messages.get(int(mid))
        if int(mid) not in u._raw or (bm is not None and bm.deleted):
            if allow:
                return None
            raise _bad("message to be replied not found")
        return int(mid)

    # -- message bookkeeping ------------------------------------------------------------------

    def _message_json(
        self,
        u: FakeUser,
        mid: int,
        *,
        content: JSONDict,
        markup: JSONDict | None,
        reply_to: int | None,
    ) -> JSONDict:
        msg: JSONDict = {
            "message_id": mid,
            "from": self._bot_user(),
            "chat": u.chat_json(),
            "date": int(time.time()),
        }
        if reply_to is not None:
            replied = u._raw[reply_to]
            msg["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        msg.update({k: v for k, v in content.items() if v not in (None, [])})
        if markup is not None and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        return msg

    @staticmethod
    def _buttons(markup: JSONDict | None) -> list[list[Button]]:
        if not markup or "inline_keyboard" not in markup:
            return []
        return [
            [Button(b["text"], b.get("callback_data"), b.get("url"), _web_app_url(b)) for b in row]
            for row in markup["inline_keyboard"]
        ]

    def _apply_reply_keyboard(self, u: FakeUser, markup: JSONDict | None) -> None:
        if not markup:
            return
        if "keyboard" in markup:
            u.reply_keyboard = [
                [b if isinstance(b, str) else b["text"] for b in row] for row in markup["keyboard"]
            ]
        elif markup.get("remove_keyboard"):
            u.reply_keyboard = None

    def _emit(
        self,
        u: FakeUser,
        msg: JSONDict,
        *,
        kind: str,
        media_type: str,
        plain: str | None,
        raw_text: str | None,
        parse_mode: str | None,
        entities: list[JSONDict],
        markup: JSONDict | None,
        file: StoredFile | None = None,
        edited: bool = False,
    ) -> BotMessage:
        is_caption = media_type != "text"
        keyboard = [list(row) for row in u.reply_keyboard] if u.reply_keyboard is not None else None
        bm = BotMessage(
            message_id=msg["message_id"],
            chat_id=u.chat_id,
            kind=kind,
            media_type=media_type,
            text=plain or "",
            html=raw_text,
            caption=plain if is_caption else None,
            parse_mode=parse_mode,
            entities=list(entities),
            buttons=self._buttons(markup),
            file_bytes=file.data if file else None,
            file_name=file.file_name if file else None,
            mime_type=file.mime_type if file else None,
            file_id=file.file_id if file else None,
            media_group_id=msg.get("media_group_id"),
            reply_to_message_id=(msg.get("reply_to_message") or {}).get("message_id"),
            reply_keyboard=keyboard,
            edited=edited,
            raw=msg,
        )
        u._raw[bm.message_id] = msg
        u._record(bm)
        return bm

    def _editable(self, u: FakeUser, params: JSONDict) -> tuple[BotMessage, JSONDict]:
        if params.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID (inline messages are not simulated)")
        mid = params.get("message_id")
        if not isinstance(mid, int):
            raise _bad("message identifier is not specified")
        bm = u._bot_messages.get(mid)
        if bm is None or bm.deleted:
            if mid in u._raw and bm is None:
                raise _bad("message can't be edited")
            raise _bad("message to edit not found")
        return bm, u._raw[mid]

    def _replace(self, u: FakeUser, old: BotMessage, msg: JSONDict, **changes: Any) -> BotMessage:
        bm = dataclasses.replace(old, raw=msg, edited=True, **changes)
        u._raw[bm.message_id] = msg
        u._record(bm)
        return bm

    # -- methods ------------------------------------------------------------------------------

    async def _send_message(self, params: JSONDict) -> JSONDict:
        u = self._chat(params)
        plain, entities, raw = self._formatted(
            params.get("text"), params.get("parse_mode"), params.get("entities"), caption=False
        )
        markup = self._markup(params.get("reply_markup"))
        reply_to = self._reply_to(u, params)
        self._rate_check(u.chat_id)
        mid = u._alloc_message_id()
        msg = self._message_json(
            u,
            mid,
            content={"text": plain, "entities": entities},
            markup=markup,
            reply_to=reply_to,
        )
        self._apply_reply_keyboard(u, markup)
        self._emit(
            u,
            msg,
            kind="text",
            media_type="text",
            plain=plain,
            raw_text=raw,
            parse_mode=params.get("parse_mode"),
            entities=entities,
            markup=markup,
        )
        return msg

    async def _send_file_message(self, params: JSONDict, kind: str) -> JSONDict:
        u = self._chat(params)
        plain, entities, raw = self._formatted(
            params.get("caption"),
            params.get("parse_mode"),
            params.get("caption_entities"),
            caption=True,
        )
        markup = self._markup(params.get("reply_markup"))
        reply_to = self._reply_to(u, params)
        files = self._resolve_media(params, params.get(kind), kind)
        self._rate_check(u.chat_id)
        mid = u._alloc_message_id()
        if kind == "photo":
            content: JSONDict = {"photo": [self._photo_size_json(f) for f in files]}
        else:
            content = {"document": self._document_json(files[0])}
        content.update(caption=plain, caption_entities=entities)
        msg = self._message_json(u, mid, content=content, markup=markup, reply_to=reply_to)
        self._apply_reply_keyboard(u, markup)
        self._emit(
            u,
            msg,
            kind=kind,
            media_type=kind,
            plain=plain,
            raw_text=raw,
            parse_mode=params.get("parse_mode"),
            entities=entities,
            markup=markup,
            file=files[-1],
        )
        return msg

    async def _send_photo(self, params: JSONDict) -> JSONDict:
        return await self._send_file_message(params, "photo")

    async def _send_document(self, params: JSONDict) -> JSONDict:
        return await self._send_file_message(params, "document")

    async def _send_media_group(self, params: JSONDict) -> list[JSONDict]:
        u = self._chat(params)
        media = params.get("media")
        if not isinstance(media, list):
            raise _bad("can't parse media JSON object")
        if not 2 <= len(media) <= 10:
            raise _bad("media_group must include 2-10 items")
        reply_to = self._reply_to(u, params)
        prepared = []
        types = set()
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in ("photo", "document"):
                raise _bad(
                    "can't parse InputMedia JSON object (the stand-in supports photo "
                    "and document albums)"
                )
            kind = item["type"]
            types.add(kind)
            plain, entities, raw = self._formatted(
                item.get("caption"),
                item.get("parse_mode"),
                item.get("caption_entities"),
                caption=True,
            )
            files = self._resolve_media(params, item.get("media"), kind)
            prepared.append((kind, files, plain, entities, raw, item.get("parse_mode")))
        if len(types) > 1:
            raise _bad("document can't be mixed with other media types")
        self._rate_check(u.chat_id, len(prepared))
        group_id = self._new_media_group_id()
        out = []
        for kind, files, plain, entities, raw, parse_mode in prepared:
            mid = u._alloc_message_id()
            if kind == "photo":
                content: JSONDict = {"photo": [self._photo_size_json(f) for f in files]}
            else:
                content = {"document": self._document_json(files[0])}
            content.update(media_group_id=group_id, caption=plain, caption_entities=entities)
            msg = self._message_json(u, mid, content=content, markup=None, reply_to=reply_to)
            self._emit(
                u,
                msg,
                kind="media_group item",
                media_type=kind,
                plain=plain,
                raw_text=raw,
                parse_mode=parse_mode,
                entities=entities,
                markup=None,
                file=files[-1],
            )
            out.append(msg)
        return out

    async def _send_chat_action(self, params: JSONDict) -> bool:
        u = self._chat(params)
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        u.chat_actions.append(str(action))
        return True

    async def _edit_message_text(self, params: JSONDict) -> JSONDict:
        u = self._chat(params)
        old, raw_msg = self._editable(u, params)
        if old.media_type != "text":
            raise _bad("there is no text in the message to edit")
        plain, entities, raw = self._formatted(
            params.get("text"), params.get("parse_mode"), params.get("entities"), caption=False
        )
        markup = self._markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad("inline keyboard expected")
        if (plain, entities, markup) == (
            raw_msg.get("text"),
            raw_msg.get("entities", []),
            raw_msg.get("reply_markup"),
        ):
            raise _bad(NOT_MODIFIED_DESCRIPTION[len("Bad Request: ") :])
        msg = {k: v for k, v in raw_msg.items() if k not in ("entities", "reply_markup")}
        msg.update(text=plain, edit_date=int(time.time()))
        if entities:
            msg["entities"] = entities
        if markup is not None:
            msg["reply_markup"] = markup
        self._replace(
            u,
            old,
            msg,
            text=plain or "",
            html=raw,
            entities=list(entities),
            parse_mode=params.get("parse_mode"),
            buttons=self._buttons(markup),
        )
        return msg

    async def _edit_message_caption(self, params: JSONDict) -> JSONDict:
        u = self._chat(params)
        old, raw_msg = self._editable(u, params)
        if old.media_type == "text":
            raise _bad("there is no caption in the message to edit")
        plain, entities, raw = self._formatted(
            params.get("caption"),
            params.get("parse_mode"),
            params.get("caption_entities"),
            caption=True,
        )
        markup = self._markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad("inline keyboard expected")
        if (plain, entities, markup) == (
            raw_msg.get("caption"),
            raw_msg.get("caption_entities", []),
            raw_msg.get("reply_markup"),
        ):
            raise _bad(NOT_MODIFIED_DESCRIPTION[len("Bad Request: ") :])
        msg = {
            k: v
            for k, v in raw_msg.items()
            if k not in ("caption", "caption_entities", "reply_markup")
        }
        msg["edit_date"] = int(time.time())
        if plain:
            msg["caption"] = plain
        if entities:
            msg["caption_entities"] = entities
        if markup is not None:
            msg["reply_markup"] = markup
        self._replace(
            u,
            old,
            msg,
            text=plain or "",
            caption=plain,
            html=raw,
            entities=list(entities),
            parse_mode=params.get("parse_mode"),
            buttons=self._buttons(markup),
        )
        return msg

    async def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        u = self._chat(params)
        old, raw_msg = self._editable(u, params)
        markup = self._markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad("inline keyboard expected")
        if markup == raw_msg.get("reply_markup"):
            raise _bad(NOT_MODIFIED_DESCRIPTION[len("Bad Request: ") :])
        msg = {k: v for k, v in raw_msg.items() if k != "reply_markup"}
        msg["edit_date"] = int(time.time())
        if markup is not None:
            msg["reply_markup"] = markup
        self._replace(u, old, msg, buttons=self._buttons(markup))
        return msg

    def _delete_one(self, u: FakeUser, mid: Any) -> None:
        if not isinstance(mid, int) or mid not in u._raw:
            raise _bad("message to delete not found")
        bm = u._bot_messages.get(mid)
        if bm is not None:
            if bm.deleted:
                raise _bad("message to delete not found")
            u._bot_messages[mid] = dataclasses.replace(bm, deleted=True)
        else:
            del u._raw[mid]

    async def _delete_message(self, params: JSONDict) -> bool:
        u = self._chat(params)
        self._delete_one(u, params.get("message_id"))
        return True

    async def _delete_messages(self, params: JSONDict) -> bool:
        u = self._chat(params)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise _bad("message_ids must contain 1-100 items")
        for mid in ids:
            with contextlib.suppress(ApiError):
                self._delete_one(u, mid)
        return True
