"""Settings: defaults, derived URLs, and one clear line per problem."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from core.bot_token import token_problem
from core.settings import Settings, SettingsError, load_settings

GOOD_TOKEN = "123456789:" + "A" * 35
CJK = re.compile(r"[\u4e00-\u9fff]")


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
    assert lines[0].startswith("KEXIE_BOT_TOKEN")


@pytest.mark.parametrize(
    ("token", "named"),
    [
        ("", "未设置"),
        ("123:abc", "机器人编号只有 3 位数字"),
        ("123:abc", "冒号后有 3 个字符，应为 35 个"),
        ("123456789" + "A" * 35, "缺少冒号"),
        ("bot123456789:" + "A" * 35, "不要带 bot 前缀"),
        ("123456789:" + "A" * 20, "冒号后有 20 个字符"),
        ("123456789:" + "A" * 34 + "。", "冒号后只能有 A-Z a-z 0-9 _ -"),
    ],
)
def test_token_problem_names_the_wrong_part(token: str, named: str) -> None:
    line = token_problem(token)
    assert line is not None and "\n" not in line
    assert line.startswith("KEXIE_BOT_TOKEN") and named in line
    if token:
        assert "<数字>:<35 个字符>" in line and "<digits>:<35 characters>" in line
    # The secret half is described, never printed.
    secret = token.partition(":")[2]
    assert len(secret) < 5 or secret not in line


def test_token_problem_accepts_real_shapes() -> None:
    assert token_problem(GOOD_TOKEN) is None
    assert token_problem(f"  {GOOD_TOKEN}\n") is None


# --- .env.example ---------------------------------------------------------------------------------

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"
ASSIGNMENT = re.compile(r"^#?(KEXIE_[A-Z0-9_]+)=(.*)$")


def test_env_example_names_every_setting_once_and_nothing_else() -> None:
    names = [
        m.group(1)
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if (m := ASSIGNMENT.match(line))
    ]
    fields = {f"KEXIE_{name.upper()}" for name in Settings.model_fields}
    assert sorted(names) == sorted(fields)  # each once: no duplicates either
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    # Every setting is explained in both languages right above it.
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if ASSIGNMENT.match(line):
            above = "\n".join(lines[max(0, number - 4) : number])
            assert CJK.search(above) and re.search(r"[a-z]{3,} [a-z]{2,}", above), line


def test_env_example_copied_to_env_loads_the_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"KEXIE_{name.upper()}", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(ENV_EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    from_file = load_settings()
    defaults = Settings.model_construct()
    for name in Settings.model_fields:
        expected = getattr(defaults, name)
        if name == "telegram_api_url":
            expected = expected.rstrip("/")
        assert getattr(from_file, name) == expected, name
    # A token is all it takes to run.
    (tmp_path / ".env").write_text(
        ENV_EXAMPLE.read_text(encoding="utf-8").replace(
            "KEXIE_BOT_TOKEN=\n", f"KEXIE_BOT_TOKEN={GOOD_TOKEN}\n"
        ),
        encoding="utf-8",
    )
    assert load_settings(require_token=True).bot_token == GOOD_TOKEN


# --- settings that used to be accepted and then broke every scheduler tick ---------------------


def run_cli(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m bot run`` with only ``env`` (no Telegram: the API URL points nowhere)."""
    base = {
        "PATH": "/usr/bin:/bin",
        "KEXIE_BOT_TOKEN": GOOD_TOKEN,
        "KEXIE_TELEGRAM_API_URL": "http://127.0.0.1:9/bot",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env={**base, **env},
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


def one_problem_line(proc: subprocess.CompletedProcess[str], setting: str) -> str:
    """The run stopped with exit code 2 and exactly one line naming ``setting``, Chinese first."""
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith(setting)
    assert CJK.search(lines[0].split(" / ")[0]), "Chinese comes first"
    return lines[0]


@pytest.mark.parametrize(
    "value", ["02-30", "2-30", "04-31", "13-01", "00-10", "11-00", "abc", "11/30", "", "02-29"]
)
def test_impossible_annual_deadline_refused(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEXIE_ANNUAL_DEADLINE", value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert len(err.value.problems) == 1
    assert err.value.problems[0].startswith("KEXIE_ANNUAL_DEADLINE")
    assert "11-30" in err.value.problems[0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("11-30", (11, 30)), ("1-5", (1, 5)), ("12-31", (12, 31)), ("１１－３０", (11, 30))],
)
def test_annual_deadline_accepted(
    value: str, expected: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEXIE_ANNUAL_DEADLINE", value)
    years = load_settings().years
    assert (years.month, years.day) == expected


def test_impossible_deadline_stops_the_program(tmp_path: Path) -> None:
    proc = run_cli({"KEXIE_ANNUAL_DEADLINE": "02-30", "KEXIE_DATA_DIR": str(tmp_path)}, tmp_path)
    one_problem_line(proc, "KEXIE_ANNUAL_DEADLINE")


@pytest.mark.parametrize(
    "value", ["late", "21:00", "24:00-08:00", "21:60-08:00", "21:00-8", "9-17", "21:00-08:00-09:00"]
)
def test_malformed_quiet_hours_refused(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEXIE_QUIET_HOURS", value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert len(err.value.problems) == 1
    assert err.value.problems[0].startswith("KEXIE_QUIET_HOURS")
    assert "21:00-08:00" in err.value.problems[0]


def test_malformed_quiet_hours_stop_the_program(tmp_path: Path) -> None:
    proc = run_cli({"KEXIE_QUIET_HOURS": "22:00-25:00", "KEXIE_DATA_DIR": str(tmp_path)}, tmp_path)
    one_problem_line(proc, "KEXIE_QUIET_HOURS")


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    a_file = tmp_path / "data"
    a_file.write_text("not a directory")
    for data_dir in (a_file, a_file / "below"):
        with pytest.raises(SettingsError) as err:
            load_settings(data_dir=data_dir)
        assert len(err.value.problems) == 1
        assert err.value.problems[0].startswith("KEXIE_DATA_DIR")
        assert "文件" in err.value.problems[0]
    proc = run_cli({"KEXIE_DATA_DIR": str(a_file)}, tmp_path)
    one_problem_line(proc, "KEXIE_DATA_DIR")


def test_data_dir_not_yet_made_is_fine(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "new" / "data")
    assert settings.data_dir == tmp_path / "new" / "data"
    assert list(tmp_path.iterdir()) == []  # the probe leaves nothing behind


def _read_only_bind_works(directory: Path) -> bool:
    """Whether this machine lets us mount ``directory`` read-only in a private namespace."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    probe = subprocess.run(
        [unshare, "-rm", "sh", "-c", RO_MOUNT + 'touch "$1/x"', "sh", str(directory)],
        capture_output=True,
        timeout=30,
    )
    return probe.returncode != 0 and b"Read-only" in probe.stderr


# Bind-mount $1 onto itself read-only (inside `unshare -rm`, so nothing outside changes). Root
# ignores permission bits, so a chmod'ed directory would not be read-only for root.
RO_MOUNT = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && '


def test_read_only_data_dir_stops_the_program(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if not _read_only_bind_works(data_dir):
        pytest.skip("no user namespaces here to make a read-only directory")
    env = {
        "PATH": "/usr/bin:/bin",
        "KEXIE_BOT_TOKEN": GOOD_TOKEN,
        "KEXIE_TELEGRAM_API_URL": "http://127.0.0.1:9/bot",
        "KEXIE_DATA_DIR": str(data_dir),
    }
    proc = subprocess.run(
        [
            "unshare",
            "-rm",
            "sh",
            "-c",
            RO_MOUNT + 'exec "$2" -m bot run',
            "sh",
            str(data_dir),
            sys.executable,
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=60,
    )
    line = one_problem_line(proc, "KEXIE_DATA_DIR")
    assert "无法写入" in line
    assert list(data_dir.iterdir()) == []


# --- start-up: where it connects, a hint when it cannot, a taken port named -----------------------


def _wait_for(log: Path, proc: subprocess.Popen[str], done: Callable[[str], bool]) -> str:
    """The process's log once ``done(log)`` holds (the process still running); fails on exit."""
    deadline = time.monotonic() + 120  # a hang guard only: the lines come within seconds
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace")
        if done(text):
            return text
        assert proc.poll() is None, text[-2000:]
        time.sleep(0.2)
    raise AssertionError(log.read_text(encoding="utf-8", errors="replace")[-2000:])


def test_unreachable_bot_api_gets_one_hint_and_a_taken_console_port_is_named(
    tmp_path: Path,
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        log = tmp_path / "run.log"
        env = {
            "PATH": "/usr/bin:/bin",
            "KEXIE_BOT_TOKEN": GOOD_TOKEN,
            "KEXIE_TELEGRAM_API_URL": "http://127.0.0.1:9/bot",  # nothing listens there
            "KEXIE_DATA_DIR": str(tmp_path / "data"),
            "KEXIE_WEB_LISTEN": f"127.0.0.1:{busy}",
        }
        with log.open("w") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=sink,
                text=True,
                cwd=tmp_path,
            )
        try:
            # The hint, then one more failed attempt after it (the hint is not repeated).
            text = _wait_for(
                log,
                proc,
                lambda t: (
                    "KEXIE_TELEGRAM_API_URL" in t
                    and "unreachable" in t.split("KEXIE_TELEGRAM_API_URL", 1)[1]
                ),
            )
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
    assert proc.returncode == 0, text[-2000:]
    text = log.read_text(encoding="utf-8")
    lines = text.splitlines()
    connecting = [n for n, line in enumerate(lines) if "connecting to the Bot API at" in line]
    assert len(connecting) == 1 and "http://127.0.0.1:9/bot …" in lines[connecting[0]]
    assert GOOD_TOKEN not in "\n".join(lines)
    hints = [n for n, line in enumerate(lines) if "中国大陆" in line]
    assert len(hints) == 1
    hint = lines[hints[0]]
    assert "KEXIE_TELEGRAM_API_URL" in hint and "Bot API" in hint and "mainland China" in hint
    assert "local Bot API server" in hint and "http://127.0.0.1:9/bot" in hint
    failures = [n for n, line in enumerate(lines) if "the Bot API is unreachable" in line]
    assert connecting[0] < failures[0]
    assert sum(n < hints[0] for n in failures) == 3  # after the third failure in a row
    assert any(n > hints[0] for n in failures)
    # Never reached: it never claims to be running, and stops cleanly (its sessions closed).
    assert not any("kexie is running" in line for line in lines)
    assert "Unclosed client session" not in text and "Traceback" not in text
    console = [line for line in lines if "console not served" in line]
    assert len(console) == 1
    assert "address already in use" in console[0] and f"127.0.0.1:{busy}" in console[0]
    assert "KEXIE_WEB_LISTEN" in console[0] and "OSError" not in console[0]


def test_a_taken_webhook_port_stops_the_start_naming_the_setting(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        env = {
            "PATH": "/usr/bin:/bin",
            "KEXIE_BOT_TOKEN": GOOD_TOKEN,
            "KEXIE_TELEGRAM_API_URL": "http://127.0.0.1:9/bot",
            "KEXIE_DATA_DIR": str(tmp_path),
            "KEXIE_WEBHOOK_URL": "https://kexie.example.cn/telegram",
            "KEXIE_WEBHOOK_SECRET": "s3cret",
            "KEXIE_WEBHOOK_LISTEN": f"127.0.0.1:{busy}",
        }
        proc = subprocess.run(
            [sys.executable, "-m", "bot", "run", "--webhook"],
            env=env,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    problem = proc.stderr.splitlines()[-1]
    assert problem.startswith(f"KEXIE_WEBHOOK_LISTEN=127.0.0.1:{busy}")
    assert "端口已被占用" in problem and "address already in use" in problem
