"""End-to-end: a full disk is named as such, to the user (Chinese first) and in the log."""

from __future__ import annotations

import errno
import logging
import sqlite3

import pytest
from sqlalchemy.exc import OperationalError

import handlers.start
from storage.evidence import EvidenceStore
from tests.harness import Kexie
from tests.journeys import answer_until_evidence
from tests.standin import make_jpeg


def _storage_full_logged(caplog: pytest.LogCaptureFixture) -> bool:
    return any(
        r.levelno == logging.ERROR
        and "storage is full" in r.getMessage()
        and "free" in r.getMessage()
        for r in caplog.records
    )


async def test_evidence_on_a_full_disk(
    kexie: Kexie, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    org = await kexie.org("蓉城储能科技有限公司科协")
    user = await kexie.member(4301, "reporter", org=org)
    await answer_until_evidence(user)

    def full(self: EvidenceStore, data: bytes) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(EvidenceStore, "put", full)
    with caplog.at_level(logging.INFO):
        await user.send_photo(make_jpeg())
        said = await user.expect()
    assert "存储空间已满" in said.text
    assert "出了问题" not in said.text
    assert _storage_full_logged(caplog)


async def test_database_full(
    kexie: Kexie, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    org = await kexie.org("蓉城储能科技有限公司科协")
    user = await kexie.member(4302, "reporter", org=org)

    def full(*args: object) -> list[str]:
        raise OperationalError(
            "INSERT INTO audit ...", {}, sqlite3.OperationalError("database or disk is full")
        )

    monkeypatch.setattr(handlers.start, "commands_for", full)
    with caplog.at_level(logging.INFO):
        await user.send("/help")
        said = await user.expect()
    assert "存储空间已满" in said.text
    assert _storage_full_logged(caplog)
