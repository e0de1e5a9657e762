"""Evidence: photos, albums and documents, downloaded, checked by content and stored at once
(whatever the step); the evidence question's 完成 and 清空重传."""

from __future__ import annotations

import logging
from typing import Any

from core import report_buttons as rb
from core.address import Address
from core.filetypes import Problem, Refusal, check_document, check_photo, is_image
from core.report_steps import Step
from core.rules import evidence_ready
from core.texts import t
from handlers.common import Turn
from handlers.port import FetchFailed, Front
from handlers.report.access import data_of, pressed, presser_state, refuse, save_data
from handlers.report.ask import ask, evidence_buttons, evidence_rows, go
from scheduler import outbox
from services import report as change
from storage import reports
from storage.db import AsyncSession, Database
from storage.evidence import (
    MAX_DOWNLOAD_BYTES,
    MIME_TYPE_MAX,
    EvidenceUnavailable,
    fit_file_name,
    is_allowed_document,
    put_evidence,
)
from storage.locks import lock_chat
from storage.models import Activity, ChatState, utcnow

log = logging.getLogger(__name__)

ALBUM_ACK_DELAY = 1.2  # seconds of quiet after an album's last photo before acknowledging
ALBUM_ACK = "album_ack"  # the outbox kind recording an album's acknowledgement as sent
DONE_WORDS = ("完成", "好了", "好", "done", "Done", "OK", "ok")


async def receive_evidence(turn: Turn, state: ChatState, activity: Activity) -> None:
    """A photo, an album item or a document: stored at once, whatever the step.

    At the evidence step it is acknowledged as such; earlier it is kept for that step and the
    current question is asked again; on the card the card is shown again with the new count.
    """
    assert turn.member is not None and turn.files
    received = turn.files[0]
    is_photo = received.kind == "photo"
    kind, unique_id, size, name = received.kind, received.unique_id, received.size, received.name
    if is_photo:
        mime = received.mime or "image/jpeg"
    else:  # receive_message sends only photos and documents here
        if not is_allowed_document(received.name, received.mime):
            turn.reply(turn.t("evidence_bad_type"))
            return
        if size and size > MAX_DOWNLOAD_BYTES:
            turn.reply(turn.t("evidence_too_big", size=f"{size / 1024 / 1024:.1f} MB"))
            return
        mime = received.mime or ""
    group = received.album
    if await reports.has_evidence_unique(turn.session, activity, unique_id):
        if group is not None:
            _schedule_album_ack(turn, activity, group, state.step)
        else:
            await _acknowledge(turn, state, activity, "evidence_duplicate", 0)
        return
    if size == 0:  # announced empty: no need to download it
        turn.reply(turn.t("evidence_empty"))
        return
    try:
        data = await received.fetch()
    except FetchFailed as exc:
        if exc.too_big:
            # The update had no file size, but the channel knows the file is over its limit.
            limit = f">{MAX_DOWNLOAD_BYTES // 1024 // 1024} MB"
            turn.reply(turn.t("evidence_too_big", size=limit))
            return
        log.warning("download failed: %s (update %s)", exc, turn.update_key)
        turn.reply(turn.t("evidence_download_failed"))
        return
    refusal = check_photo(data) if is_photo else check_document(data, name, mime)
    if refusal is not None:
        log.info(
            "evidence refused: %s (update %s, member %s)",
            refusal.reason,
            turn.update_key,
            turn.member.id,
        )
        _refuse_content(turn, refusal, photo=is_photo)
        if state.step != Step.EVIDENCE:
            await ask(turn, activity, state.step, state)  # the question it interrupted
        return
    if not is_photo:
        kind = "photo" if is_image(data) else "document"  # what it is, not what it is called
    try:
        # On the uploads' own bounded pool, within a deadline: a hung store holds this sender
        # for seconds, and nobody else.
        sha = await put_evidence(turn.evidence, data)
    except EvidenceUnavailable as exc:
        log.warning(
            "evidence not stored: %s (update %s, member %s)",
            type(exc.__cause__ or exc).__name__,
            turn.update_key,
            turn.member.id,
        )
        turn.reply(turn.t("evidence_store_failed"))
        if state.step != Step.EVIDENCE:
            await ask(turn, activity, state.step, state)  # the question it interrupted
        return
    before = activity.version
    attached = await change.add_evidence(
        turn.session,
        turn.actor,
        activity,
        today=turn.today,
        years=turn.settings.years,
        sha256=sha,
        kind=kind,
        size=size or len(data),
        file_name=fit_file_name(name),  # Telegram allows longer names than the column holds
        mime_type=mime if len(mime) <= MIME_TYPE_MAX else None,
        media_group_id=group,
        channel=turn.front.channel,
        file_id=received.ref,
        file_unique_id=unique_id,
    )
    if attached.evidence is None:
        refuse(turn, attached.key)
        return
    result = attached.evidence
    _remember_own_change(state, activity, before)
    if group is not None:
        _schedule_album_ack(turn, activity, group, state.step)
    else:
        key = "evidence_received" if result.added else "evidence_duplicate"
        await _acknowledge(turn, state, activity, key, 1 if result.added else 0)


def _remember_own_change(state: ChatState, activity: Activity, before: int) -> None:
    """An editor's own evidence change raises the version; it is no conflict with themselves
    (unless they had not seen the version it replaced)."""
    data = data_of(state)
    if data.version is not None and data.version == before != activity.version:
        data.version = activity.version
        save_data(state, data)


def _refuse_content(turn: Turn, refusal: Refusal, *, photo: bool) -> None:
    """Say why a file's bytes were refused (empty, or not what its name claims)."""
    if refusal.reason == Problem.EMPTY:
        turn.reply(turn.t("evidence_empty"))
    elif photo:
        turn.reply(turn.t("evidence_photo_not_image"))
    else:
        turn.reply(turn.t("evidence_wrong_content", kind=refusal.expected))


async def _acknowledge(
    turn: Turn, state: ChatState, activity: Activity, key: str, added: int
) -> None:
    """Say what happened to a file, in the words of the step the member is at."""
    await reports.ensure_evidence_loaded(turn.session, activity)  # add_evidence expires it
    total = len(activity.evidence)
    if state.step == Step.EVIDENCE:
        turn.reply(turn.t(key, added=added, total=total), evidence_buttons(turn, activity))
        return
    turn.reply(
        turn.t(f"{key}_early" if key == "evidence_received" else key, added=added, total=total)
    )
    await ask(turn, activity, state.step, state)


def _schedule_album_ack(turn: Turn, activity: Activity, group: str, step: str) -> None:
    """Albums arrive as one message per photo: acknowledge once, after the last one."""
    data = {
        "activity_id": activity.id,
        "group": group,
        "step": step,
        "lang": turn.lang,
    }
    front, db, to = turn.front, turn.db, turn.address
    turn.front.debounce(
        f"album:{turn.address}:{group}",
        ALBUM_ACK_DELAY,
        lambda: acknowledge_album(front, db, to, data),
    )


async def acknowledge_album(front: Front, db: Database, to: Address, data: dict[str, Any]) -> None:
    """Job: one message for a whole album, with the count of files received.

    Behind a load balancer every instance that handled some of the album's photos runs this
    job; the database decides which one speaks (:func:`_claim_album_ack`)."""
    async with db.session() as session:
        # Wait for a photo of this chat that another instance is storing right now, so the
        # count includes it (PostgreSQL; SQLite writes one transaction at a time anyway).
        await lock_chat(session, to)
        activity = await reports.load_activity(session, data["activity_id"])
        if activity is None:
            return
        in_group = sum(1 for e in activity.evidence if e.media_group_id == data["group"])
        total = len(activity.evidence)
        if not await _claim_album_ack(session, to, data["group"], in_group):
            log.info("album of report %s acknowledged by another job", data["activity_id"])
            return
    lang = data["lang"]
    at_evidence = data.get("step", Step.EVIDENCE) == Step.EVIDENCE
    if in_group == 0:
        text = t(lang, "evidence_duplicate", total=total)  # the same album sent again
    elif at_evidence:
        text = t(lang, "evidence_received", added=in_group, total=total)
    else:
        text = t(lang, "evidence_received_early_album", added=in_group, total=total)
    rows = evidence_rows(lang, activity.id, total) if at_evidence else None
    # The album's files are stored already; only the acknowledgement is left to deliver.
    await front.retrying(
        lambda: front.send(to, text, rows),
        what=f"the album acknowledgement for report {data['activity_id']}",
    )


async def _claim_album_ack(session: AsyncSession, to: Address, group: str, count: int) -> bool:
    """Whether this job is the one to acknowledge ``count`` files of album ``group``: an
    insert-or-ignore on the outbox's unique key, committed before the message goes out, so of
    several instances counting the same files exactly one gets True. The count is part of the
    key: a photo that arrives after the acknowledgement is acknowledged again with the new
    count, as one instance alone does."""
    key = f"{ALBUM_ACK}:{to}:{group}:{count}"
    row = outbox.OutRow(key=key, to=to, kind=ALBUM_ACK, payload={})
    return await outbox.enqueue(session, [row], utcnow(), sent=True) == 1


async def typed_at_evidence(turn: Turn, state: ChatState, activity: Activity, text: str) -> None:
    """Text at the evidence question: 完成 (and the like) ends it; anything else reminds how."""
    if text.strip() in DONE_WORDS:
        await _finish_evidence(turn, activity, state)
    else:
        turn.reply(
            turn.t("ask_evidence_more", count=len(activity.evidence)),
            evidence_buttons(turn, activity),
        )


async def finish_evidence(turn: Turn) -> None:
    """完成: end the evidence step (at least one photo needed)."""
    found = await pressed(turn, rb.EVIDENCE_DONE, steps=(Step.EVIDENCE,))
    if found is None:
        return
    state = await presser_state(turn)
    await _finish_evidence(turn, found[0], state)


async def _finish_evidence(turn: Turn, activity: Activity, state: ChatState) -> None:
    if not evidence_ready(e.kind for e in activity.evidence):
        if turn.is_button:
            turn.notice(turn.t("evidence_need_photo"), alert=True)
        else:
            turn.reply(turn.t("evidence_need_photo"))
        return
    # The evidence question keeps its buttons: one call for this step (issue 10), and a 完成
    # or 清空重传 pressed there later is refused as stale (``pressed`` checks the step).
    await go(turn, activity, Step.REVIEW, data_of(state))


async def clear_evidence(turn: Turn) -> None:
    """清空重传: drop this report's files and ask again."""
    found = await pressed(turn, rb.EVIDENCE_CLEAR, steps=(Step.EVIDENCE,))
    if found is None:
        return
    activity = found[0]
    assert turn.member is not None
    state = await presser_state(turn)
    before = activity.version
    cleared = await change.clear_evidence(
        turn.session, turn.actor, activity, today=turn.today, years=turn.settings.years
    )
    if not cleared.done:
        refuse(turn, cleared.key)
        return
    _remember_own_change(state, activity, before)
    turn.close_buttons()
    turn.reply(turn.t("evidence_cleared"))
