"""The report's question table names and writes its fields everywhere they are shown: the card,
the change lines ``field：old → new`` of a delivery card and of the console's history, and the
console's answer rows. A question added to the table needs no hand-kept list elsewhere."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from core import report_steps
from core.cards import change_value
from core.report_steps import BY_STEP, QUESTIONS, Step, label_key
from core.texts import CATALOGS, plain
from scheduler.delivery import Change, change_lines
from storage.models import Activity


def test_every_question_fills_a_column_or_relationship_of_the_activity() -> None:
    mapper = inspect(Activity)
    known = set(mapper.columns.keys()) | set(mapper.relationships.keys())
    assert [q.field for q in QUESTIONS if q.field not in known] == []


@pytest.mark.parametrize("lang", sorted(CATALOGS))
def test_every_question_has_its_label_and_prompt_in_each_catalog(lang: str) -> None:
    catalog = CATALOGS[lang]
    missing = [k for q in QUESTIONS for k in (q.label, q.prompt) if k not in catalog]
    assert missing == []


def test_label_key_comes_from_the_table() -> None:
    assert label_key("activity_date") == "label_date"
    assert label_key("headcount") == "label_headcount"
    assert label_key("evidence") == "label_evidence"
    assert label_key("no_such_field") is None and label_key(None) is None


def test_a_change_line_names_any_field_of_the_table_by_its_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A field only the table knows (as a newly added question is): its change line must say
    # its own name, not the one a hand-copied list gave unknown fields (佐证材料).
    rows = dict(report_steps.BY_FIELD, venue=BY_STEP[Step.NAME])
    monkeypatch.setattr(report_steps, "BY_FIELD", rows)
    lines = change_lines("zh", [Change("venue", "旧址", "新址")], 120)
    assert "服务（活动）名称：旧址 → 新址" in lines, lines
    assert "佐证材料" not in lines


def test_change_values_are_written_as_the_table_shows_the_field() -> None:
    assert change_value("zh", "headcount", "40", 120) == plain("zh", "headcount_value", n="40")
    assert change_value("zh", "headcount", "约40", 120) == "约40"
    assert change_value("zh", "evidence", "3", 120) == plain("zh", "sch_evidence_total", n="3")
    assert change_value("zh", "name", None, 120) == "—"
    assert change_value("zh", "name", "", 120) == "—"
    assert change_value("zh", "content", "长" * 50, 10) == "长" * 9 + "…"
    assert change_value("zh", "content", "长" * 50, None) == "长" * 50  # the console: whole
