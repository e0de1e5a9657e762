"""The shape of a Telegram bot token, and one line saying which part of a wrong one is wrong."""

from __future__ import annotations

import re

# Telegram bot tokens look like "123456789:AA…" (bot id, colon, 35 url-safe characters); a few
# more or fewer characters after the colon are let through in case Telegram lengthens them.
TOKEN_RE = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")
TOKEN_SHAPE = "<数字>:<35 个字符>"
TOKEN_HOW = (
    "请在 Telegram 里找 @BotFather 发送 /newbot 创建机器人，把它给出的令牌写进环境变量 "
    "KEXIE_BOT_TOKEN 或 .env 文件"
)
TOKEN_HELP = (
    f"KEXIE_BOT_TOKEN 未设置：{TOKEN_HOW}（形如 123456789:AA…）。 / KEXIE_BOT_TOKEN is not set: "
    "create a bot with @BotFather (/newbot) and put its token into KEXIE_BOT_TOKEN or .env."
)


def token_problem(token: str) -> str | None:
    """Why ``token`` is not a bot token, as one line naming the part that is wrong (the secret
    half is described by length and characters, never shown); None when it looks right."""
    token = token.strip()
    if not token:
        return TOKEN_HELP
    if TOKEN_RE.match(token):
        return None
    bot_id, colon, secret = token.partition(":")
    zh: list[str] = []
    en: list[str] = []
    if not colon:
        zh.append("缺少冒号")
        en.append("there is no colon")
    elif not bot_id.isascii() or not bot_id.isdigit():
        hint = "（不要带 bot 前缀）" if bot_id.lower().startswith("bot") else ""
        zh.append(f"冒号前应为机器人编号（纯数字）{hint}")
        en.append("the part before the colon must be the bot's id (digits only)")
    elif len(bot_id) < 5:
        zh.append(f"冒号前的机器人编号只有 {len(bot_id)} 位数字，至少应有 5 位")
        en.append(f"the bot id before the colon has {len(bot_id)} digits, at least 5 expected")
    if colon and not re.fullmatch(r"[A-Za-z0-9_-]*", secret):
        zh.append("冒号后只能有 A-Z a-z 0-9 _ -（是否多了空格、引号或其他字符？）")
        en.append("after the colon only A-Z a-z 0-9 _ - may follow (a stray space or quote?)")
    elif colon and len(secret) < 30:
        zh.append(f"冒号后有 {len(secret)} 个字符，应为 35 个（是否没有复制完整？）")
        en.append(f"{len(secret)} characters follow the colon, 35 expected (copied in full?)")
    return (
        f"KEXIE_BOT_TOKEN 格式不对：应为 {TOKEN_SHAPE}，{'；'.join(zh)}。{TOKEN_HOW}。 / "
        f"KEXIE_BOT_TOKEN is malformed: expected <digits>:<35 characters>, but "
        f"{'; '.join(en)}; get the token from "
        "@BotFather (/newbot)."
    )
