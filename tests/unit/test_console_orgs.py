"""The console registry's "quiet" rule is /chase's 全部提醒 rule: never reported, or silent for
the configured number of days or more."""

from __future__ import annotations

from datetime import date, timedelta

from storage.console_orgs import is_quiet

TODAY = date(2021, 11, 30)


def test_never_reported_is_quiet() -> None:
    assert is_quiet(None, TODAY, 30)


def test_silent_for_exactly_the_quiet_days_is_quiet() -> None:
    assert is_quiet(TODAY - timedelta(days=30), TODAY, 30)
    assert not is_quiet(TODAY - timedelta(days=29), TODAY, 30)
    assert not is_quiet(TODAY, TODAY, 1)
