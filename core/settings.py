"""Typed settings, read from ``KEXIE_*`` environment variables and an optional ``.env``."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import date, time
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.bot_token import token_problem
from core.years import ReportingYears


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
    # Seconds between checks that the SQLite file is still the one opened (storage/db.py).
    db_check_interval: float = Field(default=20.0, gt=0, le=300)
    # Updates of different chats handled at once (bot/polling.py); one chat's stay in order.
    concurrency: int = Field(default=32, ge=1, le=1000)
    # Evidence files: a directory (default <data dir>/evidence) or s3://bucket/prefix
    # (storage/evidence.py); the S3 settings serve MinIO, Alibaba Cloud OSS and AWS alike.
    evidence_url: str | None = None
    s3_endpoint: str | None = None
    s3_region: str | None = None
    s3_key: str | None = None
    s3_secret: SecretStr | None = Field(default=None, validate_default=True)
    s3_path_style: bool = False
    # Scheduled messages (deliveries, reminders, digests) per second (bot/lanes.py); replies to
    # the update being handled are paced per chat only, and go first.
    broadcast_rate: float = Field(default=25.0, gt=0, le=1000)
    # Webhook mode (``kexie run --webhook``, bot/webhook.py); polling ignores these.
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1:8080"
    webhook_secret: str | None = None
    webhook_path: str = "/telegram"
    # Telegram's setWebhook allows 1-100 simultaneous connections per bot.
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    # The admin console (a Telegram Mini App, web/): its public https address (the 控制台
    # buttons appear only when it is set) and, in polling mode, where its small server listens
    # (webhook mode serves it beside /telegram); "off" serves no console in polling mode.
    web_url: str | None = None
    web_listen: str = "127.0.0.1:8081"
    # How long a console session lasts after Telegram's initData was checked.
    web_session_minutes: int = Field(default=120, ge=5, le=24 * 60)
    # DingTalk (钉钉), the second channel: an enterprise-internal app with a robot in Stream mode
    # (channels/dingtalk/). Served when the client id and secret are both set.
    dingtalk_client_id: str = ""
    dingtalk_client_secret: SecretStr = SecretStr("")
    dingtalk_robot_code: str = ""  # empty: the client id (DingTalk's default robot code)
    dingtalk_corp_id: str = ""  # the console's H5 page needs it for dd.getAuthCode
    # The Stream gateway and the v1.0 API; the old API (media upload, user info). Tests point
    # both at a stand-in on loopback.
    dingtalk_api_url: str = "https://api.dingtalk.com"
    dingtalk_oapi_url: str = "https://oapi.dingtalk.com"
    # API requests per second (20 on DingTalk's standard edition); replies go first.
    dingtalk_rate: float = Field(default=20.0, gt=0, le=1000)

    @field_validator("telegram_api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("KEXIE_TELEGRAM_API_URL 必须以 http:// 或 https:// 开头")
        return value.rstrip("/")

    @field_validator("dingtalk_api_url", "dingtalk_oapi_url")
    @classmethod
    def _check_dingtalk_url(cls, value: str, info: ValidationInfo) -> str:
        if not value.startswith(("http://", "https://")):
            name = f"KEXIE_{(info.field_name or '').upper()}"
            raise ValueError(f"{name} 必须以 http:// 或 https:// 开头 / must start with https://")
        return value.rstrip("/")

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("KEXIE_WEBHOOK_URL 必须以 https:// 开头 / must start with https://")
        return value or None

    @field_validator("web_url")
    @classmethod
    def _check_web_url(cls, value: str | None) -> str | None:
        # Telegram opens Mini Apps over https only (http is accepted for a local test set-up).
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("KEXIE_WEB_URL 必须以 https:// 开头 / must start with https://")
        return value.rstrip("/") if value else None

    @field_validator("web_listen")
    @classmethod
    def _check_web_listen(cls, value: str) -> str:
        if value.strip().lower() in ("", "off"):
            return "off"
        parse_listen(value)
        return value

    @field_validator("webhook_listen")
    @classmethod
    def _check_webhook_listen(cls, value: str) -> str:
        parse_listen(value)
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: str | None) -> str | None:
        # Telegram's rule for secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -.
        if value and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError(
                "KEXIE_WEBHOOK_SECRET 只能包含 A-Z a-z 0-9 _ -，最长 256 个字符 / "
                "may hold only A-Z a-z 0-9 _ - (at most 256 characters)"
            )
        return value or None

    @field_validator("webhook_path")
    @classmethod
    def _check_webhook_path(cls, value: str) -> str:
        if (
            not re.fullmatch(r"/[A-Za-z0-9_./-]*", value)
            or value in ("/healthz", "/metrics")
            or value.startswith("/console")
        ):
            raise ValueError(
                f"KEXIE_WEBHOOK_PATH={_shown(value)} 应为以 / 开头的路径，例如 /telegram"
            )
        return value

    @field_validator("evidence_url")
    @classmethod
    def _check_evidence_url(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            parse_evidence_url(value)
            return value.strip()
        return None

    @field_validator("s3_endpoint")
    @classmethod
    def _check_s3_endpoint(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(
                "KEXIE_S3_ENDPOINT 必须以 http:// 或 https:// 开头 / must start with http(s)://"
            )
        return value.rstrip("/") if value else None

    @field_validator("s3_secret")
    @classmethod
    def _check_s3_pair(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if bool(value and value.get_secret_value()) != bool(info.data.get("s3_key")):
            raise ValueError(
                "KEXIE_S3_KEY 和 KEXIE_S3_SECRET 需要同时设置（或都不设，使用 AWS 默认凭据） / "
                "set both KEXIE_S3_KEY and KEXIE_S3_SECRET, or neither"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"KEXIE_TIMEZONE 不是有效的时区：{value}") from exc
        return value

    @field_validator("data_dir")
    @classmethod
    def _check_data_dir(cls, value: Path) -> Path:
        problem = data_dir_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _check_quiet_hours(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value

    @field_validator("annual_deadline")
    @classmethod
    def _check_deadline(cls, value: str) -> str:
        parse_month_day(value)
        return value

    @property
    def dingtalk(self) -> bool:
        """Whether DingTalk is configured (client id and secret both set)."""
        return bool(self.dingtalk_client_id and self.dingtalk_client_secret.get_secret_value())

    @property
    def robot_code(self) -> str:
        """The DingTalk robot's code (the client id unless set)."""
        return self.dingtalk_robot_code or self.dingtalk_client_id

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
    def evidence_location(self) -> EvidenceLocation:
        """Where evidence files are stored: ``KEXIE_EVIDENCE_URL``, else the evidence dir."""
        if self.evidence_url is None:
            return EvidenceLocation("local", path=self.evidence_dir)
        return parse_evidence_url(self.evidence_url)

    @property
    def quiet(self) -> tuple[time, time]:
        """Quiet hours as (start, end) local times."""
        return parse_quiet_hours(self.quiet_hours)

    @property
    def years(self) -> ReportingYears:
        """The statistical years, cut by the annual deadline (``KEXIE_ANNUAL_DEADLINE``)."""
        return ReportingYears(*parse_month_day(self.annual_deadline))


def _shown(value: str) -> str:
    """A setting's value quoted in a problem line, cut so one line stays one line."""
    flat = " ".join(value.split())
    return flat if len(flat) <= 40 else flat[:39] + "…"


@dataclass(frozen=True)
class EvidenceLocation:
    """A parsed ``KEXIE_EVIDENCE_URL``: a local directory, or an S3 bucket and key prefix."""

    kind: str  # "local" or "s3"
    path: Path | None = None
    bucket: str = ""
    prefix: str = ""


EVIDENCE_URL_HELP = (
    "应为目录路径、file:///绝对路径 或 s3://存储桶/前缀 / must be a directory, "
    "file:///absolute/path or s3://bucket/prefix"
)
# Bucket names as S3, MinIO and OSS all accept them (3-63 lower-case letters, digits, - and .).
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def parse_evidence_url(value: str) -> EvidenceLocation:
    """Parse ``KEXIE_EVIDENCE_URL`` (a relative directory is relative to the working directory,
    as ``KEXIE_DATA_DIR`` is); raise ValueError (Chinese first) when it names neither."""
    text = value.strip()
    shown = f"KEXIE_EVIDENCE_URL={_shown(text)}"
    if text.startswith("s3://"):
        bucket, _, prefix = text[len("s3://") :].partition("/")
        if not _BUCKET_RE.fullmatch(bucket) or any(c in text for c in "?#\\"):
            raise ValueError(f"{shown} {EVIDENCE_URL_HELP}")
        parts = [p for p in prefix.split("/") if p]
        if any(p in (".", "..") for p in parts):
            raise ValueError(f"{shown} {EVIDENCE_URL_HELP}")
        return EvidenceLocation("s3", bucket=bucket, prefix="/".join(parts))
    if text.startswith("file://"):
        path = Path(text[len("file://") :])
        if not path.is_absolute():
            raise ValueError(f"{shown} {EVIDENCE_URL_HELP}")
        return EvidenceLocation("local", path=path)
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
        raise ValueError(f"{shown} {EVIDENCE_URL_HELP}")
    return EvidenceLocation("local", path=Path(text))


QUIET_HOURS_HELP = (
    "应为 24 小时制的 HH:MM-HH:MM，例如 21:00-08:00 / must be HH:MM-HH:MM (24-hour clock), "
    "e.g. 21:00-08:00"
)
_QUIET_RE = re.compile(r"\s*([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})\s*")


def parse_quiet_hours(value: str) -> tuple[time, time]:
    """Parse ``HH:MM-HH:MM`` into two local times; raise ValueError (Chinese first) otherwise.

    Equal times mean no quiet hours; a start after the end wraps past midnight.
    """
    # Full-width digits and colons from a Chinese input method are fine (NFKC folds them).
    match = _QUIET_RE.fullmatch(unicodedata.normalize("NFKC", value))
    if match:
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 <= 23 and h2 <= 23 and m1 <= 59 and m2 <= 59:
            return time(h1, m1), time(h2, m2)
    raise ValueError(f"KEXIE_QUIET_HOURS={_shown(value)} {QUIET_HOURS_HELP}")


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` (``127.0.0.1:8080``, ``[::1]:8080``) as (host, port); ValueError otherwise."""
    host, sep, port = value.strip().rpartition(":")
    host = host.strip("[]")
    if sep and host and port.isdigit() and 0 < int(port) < 65536:
        return host, int(port)
    raise ValueError(f"KEXIE_WEBHOOK_LISTEN={_shown(value)} 应为 主机:端口，例如 127.0.0.1:8080")


def format_quiet_hours(quiet: tuple[time, time]) -> str:
    """Quiet hours written back the way the setting takes them: ``21:00-08:00``."""
    start, end = quiet
    return f"{start:%H:%M}-{end:%H:%M}"


DEADLINE_HELP = (
    "应为每年都有的 月-日，例如 11-30（不能用 02-29） / must be a month-day that exists every "
    "year, e.g. 11-30 (not 02-29)"
)
# Not a leap year: a deadline must exist in every year, or the scheduler fails in three of four.
_PLAIN_YEAR = 2001


def parse_month_day(value: str) -> tuple[int, int]:
    """Parse the annual deadline ``MM-DD`` (``11-30``, ``1-5``); raise ValueError (Chinese
    first) for anything that is not a day of every year, such as ``02-30`` or ``02-29``."""
    match = re.fullmatch(r"\s*([0-9]{1,2})-([0-9]{1,2})\s*", unicodedata.normalize("NFKC", value))
    if match:
        month, day = int(match.group(1)), int(match.group(2))
        with contextlib.suppress(ValueError):
            date(_PLAIN_YEAR, month, day)
            return month, day
    raise ValueError(f"KEXIE_ANNUAL_DEADLINE={_shown(value)} {DEADLINE_HELP}")


def format_month_day(month_day: tuple[int, int]) -> str:
    """The annual deadline written back the way the setting takes it: ``11-30``."""
    return f"{month_day[0]:02d}-{month_day[1]:02d}"


def data_dir_problem(path: Path) -> str | None:
    """Why ``path`` cannot hold the database and evidence files, or None if it can.

    A directory that does not exist yet is fine when its nearest existing ancestor is a
    writable directory (it is made on first use). Writability is probed by creating and removing
    a file, because root ignores permission bits and ``os.access`` would say yes on a read-only
    mount.
    """
    shown = _shown(str(path))
    probe_dir = path
    try:
        while not probe_dir.exists() and probe_dir.parent != probe_dir:
            probe_dir = probe_dir.parent
        if not probe_dir.is_dir():
            return (
                f"KEXIE_DATA_DIR={shown} 指向的 {_shown(str(probe_dir))} 是文件，不是目录 / "
                f"{_shown(str(probe_dir))} is a file, not a directory"
            )
        handle, probe = tempfile.mkstemp(prefix=".kexie-write-probe-", dir=probe_dir)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return (
            f"KEXIE_DATA_DIR={shown} 无法写入（{reason}），请换一个可写的目录 / "
            f"the data directory is not writable ({reason})"
        )
    return None


def load_settings(*, require_token: bool = False, **overrides: object) -> Settings:
    """Load and validate settings; raise SettingsError with one line per problem."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "?"
            msg = str(err["msg"]).removeprefix("Value error, ")
            setting = f"KEXIE_{field.upper()}"
            # Our own validators already name the setting; pydantic's messages do not.
            problems.append(msg if msg.startswith(setting) else f"{setting}: {msg}")
        raise SettingsError(problems) from None
    if require_token:
        problems = _channel_problems(settings)
        if problems:
            raise SettingsError(problems)
    return settings


def _channel_problems(settings: Settings) -> list[str]:
    """What stops ``kexie run``: no channel at all, a bad bot token, half a DingTalk app."""
    problems = []
    half = bool(settings.dingtalk_client_id) != bool(
        settings.dingtalk_client_secret.get_secret_value()
    )
    if half:
        problems.append(
            "KEXIE_DINGTALK_CLIENT_ID 和 KEXIE_DINGTALK_CLIENT_SECRET 必须同时设置 / "
            "set both the DingTalk client id and secret"
        )
    needs_token = bool(settings.bot_token) or not settings.dingtalk
    if needs_token and (problem := token_problem(settings.bot_token)):
        if not settings.bot_token and not half:
            problem += "（或设置 KEXIE_DINGTALK_CLIENT_ID 与 _CLIENT_SECRET 使用钉钉）"
        problems.append(problem)
    return problems
