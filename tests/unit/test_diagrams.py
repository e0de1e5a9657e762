"""Each flow's Mermaid diagram names the flow's stored steps, no more and no fewer.

A diagram's states are its step names (``state "resume?" as resume_q`` names the step
``resume?``); states of class ``nonstep`` (``class A, B nonstep``) and ``[*]`` are drawn for the
reader and are not steps. Adding a flow with a step enum is one line in :data:`DIAGRAMS`.
"""

from __future__ import annotations

import enum
import re
from pathlib import Path

import pytest

from core.report_steps import Step as ReportStep
from handlers.district import DistrictStep
from handlers.export import ExportStep
from handlers.org_card import OrgStep
from handlers.plan import PlanStep
from handlers.review import ReviewStep

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"

# (diagram, the enum whose values are the flow's stored steps)
DIAGRAMS: list[tuple[Path, type[enum.Enum]]] = [
    (HANDLERS / "report" / "report.mmd", ReportStep),
    (HANDLERS / "org.mmd", OrgStep),
    (HANDLERS / "district.mmd", DistrictStep),
    (HANDLERS / "plan.mmd", PlanStep),
    (HANDLERS / "export.mmd", ExportStep),
    (HANDLERS / "review.mmd", ReviewStep),
]

_ALIAS = re.compile(r'^state\s+"([^"]*)"\s+as\s+(\S+)$')
_STATE = re.compile(r"^state\s+(\S+?)\s*\{?$")
_CLASS = re.compile(r"^class\s+(.+?)\s+(\w+)$")
_ARROW = re.compile(r"^(\S+)\s*-->\s*([^\s:]+)")
_NOT_STATES = ("%%", "note ", "classDef ", "stateDiagram", "direction ", "}", "end note")


def diagram_states(text: str) -> set[str]:
    """The step names a ``stateDiagram-v2`` draws: every state but ``[*]`` and those of class
    ``nonstep``, each under its label when it has one (``state "label" as id``)."""
    ids: set[str] = set()
    labels: dict[str, str] = {}
    nonstep: set[str] = set()
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(_NOT_STATES):
            continue
        if alias := _ALIAS.match(line):
            labels[alias.group(2)] = alias.group(1)
            ids.add(alias.group(2))
        elif cls := _CLASS.match(line):
            if cls.group(2) == "nonstep":
                nonstep |= {name.strip() for name in cls.group(1).split(",")}
        elif state := _STATE.match(line):
            ids.add(state.group(1))
        elif arrow := _ARROW.match(line):
            ids |= {arrow.group(1), arrow.group(2)}
        else:
            raise AssertionError(f"a diagram line this test does not read: {line!r}")
    return {labels.get(i, i) for i in ids - nonstep - {"[*]"}}


def test_the_reader_finds_labels_arrows_and_non_steps() -> None:
    text = """stateDiagram-v2
    %% a comment --> not_a_state
    state "resume?" as resume_q
    state "a choice" as Choice
    [*] --> resume_q: /report
    resume_q --> date: 继续
    date --> Choice
    Choice --> [*]
    note right of date: date --> not_a_state either
    classDef nonstep fill:#eee
    class Choice nonstep
    """
    assert diagram_states(text) == {"resume?", "date"}


@pytest.mark.parametrize("path, steps", DIAGRAMS, ids=lambda v: getattr(v, "name", ""))
def test_diagram_states_are_the_flows_steps(path: Path, steps: type[enum.Enum]) -> None:
    drawn = diagram_states(path.read_text(encoding="utf-8"))
    stored = {str(s.value) for s in steps}
    assert drawn == stored, (
        f"{path.name}: drawn but not a step: {sorted(drawn - stored)}; "
        f"a step not drawn: {sorted(stored - drawn)}"
    )
