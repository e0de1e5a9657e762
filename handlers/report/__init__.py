"""The reporting conversation (/report), one module per part:

- :mod:`.flow` — entry, each message routed to its answer, resume / restart, /cancel;
- :mod:`.answers` — reading and storing an answer, then the next question (or the card);
- :mod:`.evidence` — photos, albums and documents, 完成 and 清空重传;
- :mod:`.card` — the summary card: 提交, 修改, 返回, 取消, the end of an amendment;
- :mod:`.ask` — asking a question of the table (:mod:`core.report_steps`) and drawing the card;
- :mod:`.access` — who may act on a report now, and the report a pressed button names.

The flow is drawn in ``report.mmd`` beside these modules; its states are the stored steps
(:class:`core.report_steps.Step`), which ``tests/test_diagrams.py`` checks.
"""

from handlers.report.access import FLOW, may_amend
from handlers.report.answers import confirm_headcount, pick_date, pick_role
from handlers.report.ask import evidence_rows, field_buttons, go, render_card, report_state
from handlers.report.card import (
    ask_cancel,
    ask_field_to_fix,
    begin_amend,
    discard_draft,
    finish_amend,
    fix_field,
    keep_draft,
    show_card,
    submit_report,
)
from handlers.report.evidence import (
    acknowledge_album,
    clear_evidence,
    finish_evidence,
    receive_evidence,
)
from handlers.report.flow import (
    ask_again,
    cancel_report,
    choose_org,
    receive_message,
    restart_draft,
    resume_draft,
    start_report,
)

__all__ = [
    "FLOW",
    "acknowledge_album",
    "ask_again",
    "ask_cancel",
    "ask_field_to_fix",
    "begin_amend",
    "cancel_report",
    "choose_org",
    "clear_evidence",
    "confirm_headcount",
    "discard_draft",
    "evidence_rows",
    "field_buttons",
    "finish_amend",
    "finish_evidence",
    "fix_field",
    "go",
    "keep_draft",
    "may_amend",
    "pick_date",
    "pick_role",
    "receive_evidence",
    "receive_message",
    "render_card",
    "report_state",
    "restart_draft",
    "resume_draft",
    "show_card",
    "start_report",
    "submit_report",
]
