"""Bot API methods about the bot itself: getMe, getUpdates, webhooks, commands, menu
buttons, getChat and answerCallbackQuery."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from tests.standin.base import StandInBase
from tests.standin.constants import (
    _DEFAULT_ALLOWED_UPDATES,
    CONFLICT_DESCRIPTION,
    MAX_CALLBACK_ANSWER_LENGTH,
    QUERY_TOO_OLD_DESCRIPTION,
)
from tests.standin.types import ApiError, CallbackAnswer, JSONDict, _bad, web_app_url_ok

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


class BotMethods(StandInBase):
    """getMe, getUpdates, webhook, command, menu-button and bot-info methods, getChat,
    answerCallbackQuery."""

    async def _ok_true(self, params: JSONDict) -> bool:
        return True

    async def _get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if not 1 <= limit <= 100:
            limit = 100
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) or _DEFAULT_ALLOWED_UPDATES
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        self._updates = [
            u
            for u in self._updates
            if next(k for k in u if k != "update_id") in self._allowed_updates
        ]
        self._update_signal.notify()  # confirmation may satisfy wait_until_confirmed
        self._poll_generation += 1
        generation = self._poll_generation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, CONFLICT_DESCRIPTION, category="conflict")
            if self._closing:
                return []
            ready = [
                u
                for u in self._updates
                if next(k for k in u if k != "update_id") in self._allowed_updates
            ]
            if ready:
                return ready[:limit]
            if not await self._update_signal.wait(deadline - loop.time()):
                return []

    async def _delete_webhook(self, params: JSONDict) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
            self._update_signal.notify()
        return True

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if scope is None or scope == "":
            return "default"
        if not isinstance(scope, dict) or "type" not in scope:
            raise _bad("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return str(kind)
        if kind in ("chat", "chat_administrators"):
            return f"{kind}:{scope.get('chat_id')}"
        if kind == "chat_member":
            return f"chat_member:{scope.get('chat_id')}:{scope.get('user_id')}"
        raise _bad("wrong BotCommandScope type specified")

    async def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("too many commands")
        parsed: list[tuple[str, str]] = []
        for c in commands:
            if not isinstance(c, dict):
                raise _bad("can't parse BotCommand JSON object")
            name = str(c.get("command", "")).lstrip("/")
            desc = str(c.get("description", ""))
            if not _COMMAND_RE.match(name):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(desc.strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            parsed.append((name, desc))
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        if parsed:
            self.commands[key] = parsed
        else:
            self.commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        return [{"command": c, "description": d} for c, d in self.commands.get(key, [])]

    async def _delete_my_commands(self, params: JSONDict) -> bool:
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self.commands.pop(key, None)
        return True

    async def _set_chat_menu_button(self, params: JSONDict) -> bool:
        chat_id = params.get("chat_id")
        if chat_id is not None:
            self._chat(params)
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "default",
            "commands",
            "web_app",
        ):
            raise _bad("can't parse menu button JSON object")
        if button["type"] == "web_app":
            text = button.get("text")
            app = button.get("web_app")
            url = app.get("url") if isinstance(app, dict) else None
            if not isinstance(text, str) or not text.strip():
                raise _bad("menu button text is empty")
            if not isinstance(url, str) or not web_app_url_ok(url):
                raise _bad(
                    f"menu button Web App URL '{url}' is invalid: Only HTTPS links are allowed"
                )
        self.menu_buttons[chat_id] = button
        return True

    async def _get_chat_menu_button(self, params: JSONDict) -> JSONDict:
        chat_id = params.get("chat_id")
        return self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "commands"}

    async def _set_bot_info(self, params: JSONDict) -> bool:
        for key in ("description", "short_description", "name"):
            if key in params:
                self.bot_info[f"{key}:{params.get('language_code') or ''}"] = str(params[key])
        return True

    async def _get_chat(self, params: JSONDict) -> JSONDict:
        u = self._chat(params)
        return {**u.chat_json(), "accent_color_id": 0, "max_reaction_count": 11}

    async def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        entry = self._queries.get(query_id)
        if entry is None or time.monotonic() - entry[1] > self.callback_query_ttl:
            raise _bad(QUERY_TOO_OLD_DESCRIPTION[len("Bad Request: ") :])
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        u, _, data = entry
        del self._queries[query_id]
        u.callback_answers.append(
            CallbackAnswer(
                query_id=query_id,
                text=None if text is None else str(text),
                show_alert=bool(params.get("show_alert")),
                url=params.get("url"),
                cache_time=int(params.get("cache_time") or 0),
                data=data,
            )
        )
        self._output_signal.notify()
        return True
