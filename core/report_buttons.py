"""The report flow's buttons, each one typed codec (see :mod:`core.callbacks`).

``rep:<activity id>:<action>[:<arg>]``, ``rep:org:<org id>`` and ``menu:report``: built with
``.pack``, registered with ``.pattern``, read with ``.parse`` (None: an expired or forged button).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.callbacks import Codec, id_codec
from core.schedule_buttons import MENU_REPORT


@dataclass(frozen=True)
class OnReport:
    """A button about one report (draft or submitted)."""

    activity: int


@dataclass(frozen=True)
class DatePicked:
    """今天 / 昨天 / 前天."""

    activity: int
    day: date


@dataclass(frozen=True)
class RolePicked:
    """主办 / 协办 / 承办, by index in :data:`core.rules.ROLES`."""

    activity: int
    index: int


@dataclass(frozen=True)
class HeadcountAnswer:
    """确认 (yes) or 重新填写 (no) under a large headcount."""

    activity: int
    answer: str

    @property
    def confirmed(self) -> bool:
        """确认 was pressed."""
        return self.answer == "yes"


@dataclass(frozen=True)
class FieldPicked:
    """A field from the 修改 list (a step name; checked against the question table on press)."""

    activity: int
    step: str


def _on_report(action: str) -> Codec[OnReport]:
    return Codec("rep:{activity:id}:" + action, OnReport)


MENU = MENU_REPORT  # 报送活动 on the welcome menu and the scheduler's messages (one codec)
ORG = id_codec("rep:org")  # an association from the picker
RESUME = _on_report("resume")
RESTART = _on_report("restart")
DATE = Codec("rep:{activity:id}:date:{day:date}", DatePicked)
ROLE = Codec("rep:{activity:id}:role:{index:digit}", RolePicked)
HEADCOUNT = Codec("rep:{activity:id}:hc:{answer:yes|no}", HeadcountAnswer)
EVIDENCE_DONE = _on_report("evdone")
EVIDENCE_CLEAR = _on_report("evclear")
SUBMIT = _on_report("submit")
EDIT = _on_report("edit")  # 修改: the list of fields
FIX = Codec("rep:{activity:id}:fix:{step:word}", FieldPicked)
CARD = _on_report("card")  # 返回 to the card
AMENDED = _on_report("amended")  # 修改完成
CANCEL = _on_report("cancel")
DISCARD = _on_report("discard")
KEEP = _on_report("keep")

__all__ = [
    "AMENDED",
    "CANCEL",
    "CARD",
    "DATE",
    "DISCARD",
    "EDIT",
    "EVIDENCE_CLEAR",
    "EVIDENCE_DONE",
    "FIX",
    "HEADCOUNT",
    "KEEP",
    "MENU",
    "ORG",
    "RESTART",
    "RESUME",
    "ROLE",
    "SUBMIT",
    "DatePicked",
    "FieldPicked",
    "HeadcountAnswer",
    "OnReport",
    "RolePicked",
]
