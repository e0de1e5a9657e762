"""Migration 0005 (members.daily_digest): existing members keep 逐条推送; down and up again."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command

from storage.migrate import alembic_config, upgrade


def test_0005_adds_the_digest_choice_false_for_everyone_and_goes_back(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, "0004")
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO members (first_name, language, unreachable, mute_nudges,"
            " mute_city_summary, city_delivery_opt_in, created_at)"
            " VALUES ('陈静', 'zh', 0, 0, 0, 0, '2026-11-01 00:00:00')"
        )
    upgrade(url, "0005")
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT first_name, daily_digest FROM members").fetchall() == [
            ("陈静", 0)
        ]
    command.downgrade(alembic_config(url), "0004")
    with sqlite3.connect(path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(members)")]
        assert "daily_digest" not in columns
        assert db.execute("SELECT first_name FROM members").fetchall() == [("陈静",)]
    upgrade(url)
