"""Typed settings, read from ``KEXIE_*`` environment variables and an optional ``.env``."""

from __future__ import annotations

import re
from datetime import time
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Telegram bot tokens look like "123456789:AA…" (bot id, colon, 35 url-safe characters).
TOKEN_RE = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")
TOKEN_HELP = (
    "KEXIE_BOT_TOKEN 缺失或格式不对：请在 Telegram 里找 @BotFather 发送 /newbot 创建机器人，"
    "把它给出的令牌（形如 123456789:AA…）写进环境变量 KEXIE_BOT_TOKEN 或 .env 文件。"
    " / KEXIE_BOT_TOKEN is missing or malformed: create a bot with @BotFather (/newbot) and put "
    "its token into KEXIE_BOT_TOKEN or .env."
)


class SettingsError(Exception):
    """Raised with one human-readable line per configuration problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Settings(BaseSettings):
    """All runtime configuration of kexie; every field maps to ``KEXIE_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="KEXIE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    bot_token: str = ""
    bot_username: str | None = None
    data_dir: Path = Path("./data")
    database_url: str | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    timezone: str = "Asia/Shanghai"
    quiet_hours: str = "21:00-08:00"
    quiet_days: int = Field(default=30, ge=1)
    annual_deadline: str = "11-30"
    poll_timeout: int = Field(default=10, ge=0, le=50)

    @field_validator("telegram_api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("KEXIE_TELEGRAM_API_URL 必须以 http:// 或 https:// 开头")
        return value.rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"KEXIE_TIMEZONE 不是有效的时区：{value}") from exc
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _check_quiet_hours(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value

    @field_validator("annual_deadline")
    @classmethod
    def _check_deadline(cls, value: str) -> str:
        if not re.fullmatch(r"(0?[1-9]|1[0-2])-(0?[1-9]|[12]\d|3[01])", value):
            raise ValueError("KEXIE_ANNUAL_DEADLINE 应为 月-日，例如 11-30")
        return value

    @cached_property
    def tz(self) -> ZoneInfo:
        """The configured time zone as a ``ZoneInfo``."""
        return ZoneInfo(self.timezone)

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL; defaults to an SQLite file inside the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'kexie.db').resolve()}"

    @property
    def file_api_url(self) -> str:
        """The file download base URL derived from the API URL (``…/bot`` → ``…/file/bot``)."""
        base = self.telegram_api_url
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base + "/file/bot"

    @property
    def evidence_dir(self) -> Path:
        """Where evidence files are stored, content-addressed."""
        return self.data_dir / "evidence"

    @property
    def quiet(self) -> tuple[time, time]:
        """Quiet hours as (start, end) local times."""
        return parse_quiet_hours(self.quiet_hours)

    def deadline_month_day(self) -> tuple[int, int]:
        """The annual deadline's (month, day)."""
        month, day = self.annual_deadline.split("-")
        return int(month), int(day)


def parse_quiet_hours(value: str) -> tuple[time, time]:
    """Parse ``HH:MM-HH:MM`` into two times; raise ValueError with a Chinese sentence."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
    if not match:
        raise ValueError("KEXIE_QUIET_HOURS 应为 HH:MM-HH:MM，例如 21:00-08:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError("KEXIE_QUIET_HOURS 里的时间不合法")
    return time(h1, m1), time(h2, m2)


def load_settings(*, require_token: bool = False, **overrides: object) -> Settings:
    """Load and validate settings; raise SettingsError with one line per problem."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "?"
            msg = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"KEXIE_{field.upper()}: {msg}")
        raise SettingsError(problems) from None
    if require_token and not TOKEN_RE.match(settings.bot_token.strip()):
        raise SettingsError([TOKEN_HELP])
    return settings
