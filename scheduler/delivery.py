"""A delivery, rendered when it is sent: the card district admins receive (every field,
lateness, who changed it and, for an amendment or a correction after a return, one
``field：old → new`` line per change; 通过 / 退回 while it waits for review), the albums of
evidence files that follow it, and review's own messages (a return, the pending reminder).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.cards import (
    MAX_MESSAGE,
    answer_lines,
    card_line,
    change_value,
    cut_visible,
    visible_length,
    year_notes,
)
from core.enums import ActivityStatus
from core.report_steps import label_key
from core.rules import format_datetime, shorten
from core.texts import Raw, plain, t
from scheduler.messages import ALBUM
from scheduler.messenger import Album, Attachment, Outgoing
from scheduler.review_render import review_buttons
from scheduler.rows import Kind, Timing
from storage.db import AsyncSession
from storage.evidence import EvidenceStorage
from storage.models import Activity, AuditEntry
from storage.notices import (
    activity_of,
    audit_entries,
    channel_file_ids,
    evidence_changes_after,
    first_names,
    report_for_card,
)
from storage.review import corrections

CARD_TEXT_CHARS = 500
CHANGE_CHARS = 120
# (card text, changed value) lengths tried in turn until a delivery card fits one message.
TEXT_BUDGETS = ((CARD_TEXT_CHARS, CHANGE_CHARS), (200, 60), (80, 24), (30, 10))
TELEGRAM = "telegram"  # the channel whose file ids old outbox payloads carry


def reader(store: EvidenceStorage | None, sha256: str) -> Callable[[], bytes] | None:
    """How to read the stored bytes of ``sha256`` (None without a store)."""
    if store is None or not sha256:
        return None
    return lambda: store.open(sha256)


async def album(
    session: AsyncSession,
    params: dict[str, Any],
    payload: dict[str, Any],
    lang: str,
    store: EvidenceStorage | None,
) -> Album:
    """Evidence files of a delivery; files removed from the report since are still sent (the
    card they follow counted them), from the store."""
    media: list[dict[str, Any]] = payload.get("media") or []
    ids = [int(item["evidence"]) for item in media if item.get("evidence") is not None]
    known = await channel_file_ids(session, ids) if ids else {}
    files = []
    for item in media:
        sha256 = str(item.get("sha256") or "")
        files.append(
            Attachment(
                sha256=sha256,
                file_name=item.get("file_name"),
                file_ids=known.get(int(item.get("evidence") or 0), {}),
                read=reader(store, sha256),
            )
        )
    caption = None
    if params.get("caption"):
        activity = await activity_of(session, int(params["activity"]))
        if activity is not None:
            caption = t(
                lang, "sch_album_caption", ref=activity.ref_no or "", name=activity.name or ""
            )
    return Album(ALBUM, tuple(files), caption, bool(payload.get("documents")))


async def delivery(
    session: AsyncSession, kind: Kind, params: dict[str, Any], lang: str, timing: Timing
) -> Outgoing | None:
    activity = await report_for_card(session, int(params["activity"]))
    if activity is None:
        return None
    ref_ids = [int(r) for r in params.get("refs") or []]
    refs: list[AuditEntry] = await audit_entries(session, ref_ids) if ref_ids else []
    # Who amended, withdrew or resubmitted it: not always its author (an org admin may).
    by = None
    if kind != Kind.REPORT_SUBMITTED:
        member_ids = list(dict.fromkeys(e.member_id for e in refs if e.member_id is not None))
        if member_ids:
            found = await first_names(session, member_ids)
            sep = "、" if lang == "zh" else ", "
            by = sep.join(str(found[m]) for m in member_ids if found.get(m)) or None
    entries: list[AuditEntry] = []
    changes: list[Change] = []
    if kind == Kind.REPORT_EDITED and refs:
        entries = refs
        later = await evidence_changes_after(session, activity.id, max(ref_ids))
        changes = net_changes(
            [(e.field, e.old_value, e.new_value) for e in entries if e.action == "edit"]
        )
        files = [(e.old_value, e.new_value) for e in entries if e.action == "evidence"]
        if files:
            after = evidence_count_before(len(activity.evidence), later)
            before = evidence_count_before(after, files)
            if before != after:
                changes.append(Change("evidence", str(before), str(after)))
    if kind == Kind.REPORT_CORRECTED and ref_ids:
        entries = await corrections(session, activity.id, max(ref_ids))
        changes = net_changes(
            [(e.field, e.old_value, e.new_value) for e in entries if e.action == "edit"]
        )
    text = _fitted(
        activity,
        kind,
        lang,
        timing,
        changes,
        edited=bool(entries) or kind == Kind.REPORT_CORRECTED,
        by=by,
    )
    return Outgoing(kind, text, review_buttons(activity, kind, lang))


@dataclass(frozen=True)
class Change:
    """One field of an amendment: the value before the first edit and after the last one."""

    field: str
    old: str | None
    new: str | None


def net_changes(edits: Sequence[tuple[str | None, str | None, str | None]]) -> list[Change]:
    """Audit ``(field, old, new)`` entries in order, as one change per field (in the order the
    fields were first touched); a field changed back to where it started is left out."""
    first: dict[str, str | None] = {}
    last: dict[str, str | None] = {}
    for field_name, old, new in edits:
        key = field_name or ""
        first.setdefault(key, old)
        last[key] = new
    return [Change(f, first[f], last[f]) for f in first if first[f] != last[f]]


def evidence_count_before(after: int, entries: Sequence[tuple[str | None, str | None]]) -> int:
    """How many evidence files there were before the evidence audit ``entries`` (old, new),
    given ``after`` once they were applied: an added file has no old value, clearing them all
    records how many there were."""
    count = after
    for old, _new in reversed(entries):
        if old is None:
            count -= 1
        else:
            try:
                count = int(old)
            except ValueError:
                count -= 1
    return max(count, 0)


def change_lines(lang: str, changes: Sequence[Change], chars: int) -> Raw:
    """The 修改内容 block: one ``field：old → new`` line per change, values escaped."""
    lines = [t(lang, "sch_changes")]
    for c in changes:
        lines.append(
            t(
                lang,
                "sch_change_line",
                # A field no longer asked keeps the name this line always gave it.
                field=plain(lang, label_key(c.field) or "label_evidence"),
                old=change_value(lang, c.field, c.old, chars),
                new=change_value(lang, c.field, c.new, chars),
            )
        )
    if not changes:
        lines.append(t(lang, "sch_changes_none"))
    return Raw("\n".join(lines))


def _fitted(
    activity: Activity,
    kind: Kind,
    lang: str,
    timing: Timing,
    changes: Sequence[Change],
    *,
    edited: bool,
    by: str | None = None,
) -> Raw:
    """The card (and its changes) within Telegram's limit: long texts are shortened further
    until it fits, as it is shown (entities count once, emoji twice)."""
    text = Raw("")
    for card_chars, change_chars in TEXT_BUDGETS:
        text = delivery_card(activity, kind, lang, timing, card_chars, by=by)
        if edited:
            text = Raw(text + "\n\n" + change_lines(lang, changes, change_chars))
        if visible_length(text) <= MAX_MESSAGE:
            return text
    return cut_visible(text)


def delivery_card(
    activity: Activity,
    kind: Kind,
    lang: str,
    timing: Timing,
    text_chars: int = CARD_TEXT_CHARS,
    *,
    by: str | None = None,
) -> Raw:
    """The card district admins receive: every field, lateness, reporter, photos count, and
    ``by`` whom it was amended, withdrawn or resubmitted."""
    org = activity.organisation
    head = t(
        lang,
        f"sch_head_{kind}",
        ref=activity.ref_no or "",
        district=org.district.name,
        org=org.name,
    )

    def line(label: str, value: object) -> str:
        return card_line(lang, label, value)

    lines = [
        head,
        "",
        *answer_lines(lang, activity, text_chars),
        line("label_author", activity.author.first_name if activity.author else None),
        line(
            "label_submitted_at",
            format_datetime(activity.submitted_at, timing.tz, lang)
            if activity.submitted_at
            else None,
        ),
        line("label_status", plain(lang, f"status_{activity.status}")),
    ]
    if activity.review_state and activity.status == ActivityStatus.SUBMITTED:
        lines.append(
            line("review_label_state", plain(lang, f"review_state_{activity.review_state}"))
        )
    if by:
        lines.append(line("label_changed_by", shorten(by, 200)))
    if activity.submitted_at is not None:
        lines.append(
            t(lang, "card_on_time")
            if activity.on_time
            else t(lang, "card_late", days=activity.late_days)
        )
    lines += year_notes(
        lang, activity.activity_date, activity.submitted_at, timing.tz, timing.years
    )
    return Raw("\n".join(lines))
