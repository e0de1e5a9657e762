"""Settings: defaults, derived URLs, and one clear line per problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings

GOOD_TOKEN = "123456789:" + "A" * 35


def test_defaults_and_derived_urls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(bot_token=GOOD_TOKEN)
    assert settings.timezone == "Asia/Shanghai"
    assert settings.telegram_api_url == "https://api.telegram.org/bot"
    assert settings.file_api_url == "https://api.telegram.org/file/bot"
    assert settings.db_url.startswith("sqlite+aiosqlite:///")
    assert settings.db_url.endswith("data/kexie.db")
    local = load_settings(bot_token=GOOD_TOKEN, telegram_api_url="http://127.0.0.1:8081/bot/")
    assert local.file_api_url == "http://127.0.0.1:8081/file/bot"


def test_env_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEXIE_TIMEZONE", "Asia/Urumqi")
    monkeypatch.setenv("KEXIE_DATABASE_URL", "postgresql+asyncpg://u@h/db")
    settings = load_settings()
    assert settings.timezone == "Asia/Urumqi"
    assert settings.db_url == "postgresql+asyncpg://u@h/db"


def test_every_problem_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEXIE_TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("KEXIE_QUIET_HOURS", "late")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert len(err.value.problems) == 2
    assert any(p.startswith("KEXIE_TIMEZONE") for p in err.value.problems)
    assert any(p.startswith("KEXIE_QUIET_HOURS") for p in err.value.problems)


@pytest.mark.parametrize("token", ["", "not-a-token", "123:short"])
def test_bad_token_is_one_line_exit_2(token: str, tmp_path: Path) -> None:
    env = {"KEXIE_BOT_TOKEN": token, "KEXIE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "@BotFather" in lines[0]
