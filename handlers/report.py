"""The reporting conversation (/report): seven questions, a summary card, submit.

State lives in the database (``chat_states`` + the draft ``activities`` row); every answer is
committed when it arrives. The flow is drawn in ``report.mmd`` beside this module.
Callback data: ``rep:<activity id>:<action>[:<arg>]`` and ``rep:org:<org id>``; every id in a
button is checked again on press.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta

from telegram import Document, Message
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from core.cards import answer_lines, card_line
from core.enums import ActivityStatus
from core.filetypes import Problem, Refusal, check_document, check_photo, is_image
from core.policy import Action, Target, allowed
from core.rules import (
    CONTENT_MAX,
    NAME_MAX,
    OUTCOME_MAX,
    ROLES,
    check_text,
    editable_until,
    format_date,
    format_datetime,
    needs_headcount_confirmation,
    parse_activity_date,
    parse_headcount,
    parse_role,
    shorten,
    timeliness,
    window_closes_at,
)
from core.texts import Raw, plain, t
from handlers.common import RETRY_BUDGET, Buttons, Turn, keyboard, with_retries
from storage import reports
from storage.db import Database
from storage.evidence import MAX_DOWNLOAD_BYTES, is_allowed_document
from storage.members import reporting_orgs
from storage.models import Activity, ChatState, Organisation

log = logging.getLogger(__name__)

FLOW = "report"
TEXT_LIMITS = {"name": NAME_MAX, "content": CONTENT_MAX, "outcome": OUTCOME_MAX}
CARD_CONTENT_CHARS = 500  # long content is stored whole but shortened on the card
ALBUM_ACK_DELAY = 1.2  # seconds of quiet after an album's last photo before acknowledging
SPLIT_LENGTH = 4000  # a text this long was probably cut by the client; the rest comes next
FIELD_STEPS = ("date", "name", "content", "role", "headcount", "outcome", "evidence")
# What a question keeps of the flow's data: fixing from the card, amending a submitted report,
# and the report's version when the amendment was opened (optimistic concurrency).
CARRIED = ("editing", "amend", "version")
CONFIRM_HEADCOUNT = "headcount?"  # a large headcount waits here (in state.data) until confirmed
CONFIRM_WORDS = ("确认", "是", "对", "没错", "确定", "confirm", "Confirm", "yes", "Yes")
REDO_WORDS = ("重新填写", "重新", "重填", "re-enter", "Re-enter", "no", "No")


# ---------------------------------------------------------------------------------------------
# entry points


async def start_report(turn: Turn) -> None:
    """/report or the 报送活动 button: pick an association, or offer to resume a draft."""
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    if turn.query:
        turn.close_buttons()
    draft = await reports.open_draft(turn.session, turn.member.id)
    told = False
    if draft is not None and await _may_report(turn, draft.org_id):
        activity = await reports.load_activity(turn.session, draft.id)
        assert activity is not None
        if _answered(activity) == 0:
            await go(turn, activity, "date")  # nothing to lose: just start at step 1 again
        else:
            await _offer_resume(turn, activity)
        return
    if draft is not None:
        activity = await reports.load_activity(turn.session, draft.id)
        assert activity is not None
        told = await _tell_if_ended(turn, activity)
    orgs = await reporting_orgs(turn.session, turn.member.id)
    if not orgs:
        if not told:
            ended = await reports.ended_orgs(turn.session, turn.member.id)
            if ended:
                turn.reply(turn.t("membership_ended", org="、".join(o.name for o in ended)))
            else:
                turn.reply(turn.t("report_no_org"))
        return
    if len(orgs) > 1:
        await reports.set_state(turn.session, turn.member.id, FLOW, "org")
        turn.reply(turn.t("report_pick_org"), [[(o.name[:60], f"rep:org:{o.id}")] for o in orgs])
        return
    await _begin(turn, orgs[0])


def _answered(activity: Activity) -> int:
    """How many of the seven questions have an answer."""
    done = sum(
        1 for s in FIELD_STEPS[:-1] if getattr(activity, reports.FIELD_OF_STEP[s]) is not None
    )
    return done + (1 if activity.evidence else 0)


async def _offer_resume(turn: Turn, activity: Activity) -> None:
    assert turn.member is not None
    await reports.set_state(turn.session, turn.member.id, FLOW, "resume?", activity.id)
    name = activity.name or turn.label("report_untitled")
    turn.reply(
        turn.t("report_draft_exists", name=name, done=_answered(activity)),
        [
            [
                (turn.label("report_resume"), f"rep:{activity.id}:resume"),
                (turn.label("report_restart"), f"rep:{activity.id}:restart"),
            ]
        ],
    )


async def choose_org(turn: Turn) -> None:
    """A button from the association picker."""
    assert turn.query and turn.query.data and turn.member
    org_id = int(turn.query.data.split(":")[2])
    if not await _may_report(turn, org_id):
        turn.notice(turn.t("not_allowed"), alert=True)
        return
    org = await reports.org_of(turn.session, org_id)
    assert org is not None
    turn.close_buttons()
    await _begin(turn, org)


async def resume_draft(turn: Turn) -> None:
    """继续: go back to the first unanswered question (or the card)."""
    activity = await _pressed_activity(turn, steps=("resume?",))
    if activity is None:
        return
    turn.close_buttons()
    await _resume(turn, activity)


async def _resume(turn: Turn, activity: Activity) -> None:
    step = reports.first_missing_step(activity, len(activity.evidence))
    await go(turn, activity, step)


async def restart_draft(turn: Turn) -> None:
    """重新开始: discard the draft and begin a fresh one for the same association."""
    activity = await _pressed_activity(turn, steps=("resume?",))
    if activity is None:
        return
    turn.close_buttons()
    await _restart(turn, activity)


async def _restart(turn: Turn, activity: Activity) -> None:
    reports.cancel_draft(activity)
    await _begin(turn, activity.organisation)


async def _begin(turn: Turn, org: Organisation) -> None:
    assert turn.member is not None
    activity = await reports.start_draft(turn.session, turn.member.id, org.id)
    turn.reply(turn.t("report_started", org=org.name))
    await go(turn, activity, "date")


# ---------------------------------------------------------------------------------------------
# answers typed or sent as files


async def receive_message(turn: Turn, state: ChatState) -> None:
    """Any message while in the report flow: the answer to the current question."""
    assert turn.member is not None and turn.message is not None
    if state.activity_id is None:
        turn.reply(turn.t("report_pick_org"))
        return
    activity = await reports.load_activity(turn.session, state.activity_id)
    if activity is None or not _may_edit(turn, activity):
        await reports.clear_state(turn.session, turn.member.id)
        if activity is None or not await _tell_if_ended(turn, activity):
            turn.reply(turn.t("not_found_or_denied"))
        return
    message = turn.message
    step = state.step
    if step == "resume?":
        await _answer_resume_question(turn, activity, message.text or "")
        return
    refused = _refused_kind(message)
    if refused:
        if step == "evidence":
            turn.reply(turn.t("evidence_bad_kind", kind=turn.label(refused)))
        else:
            turn.reply(turn.t("expect_text"))
            await _ask(turn, activity, step, state)
        return
    if message.photo or message.document:
        # Photos sent early (people often send them first) are kept for the evidence step.
        await receive_evidence(turn, state, activity)
        return
    if message.text is None:
        turn.reply(turn.t("expect_text"))
        return
    text = message.text
    split_until = state.data.get("split_until")
    if split_until and message.date <= datetime.fromisoformat(split_until):
        # The rest of an over-long message the Telegram client split in two: never an answer.
        turn.reply(turn.t("text_split_tail", limit=TEXT_LIMITS.get(step, NAME_MAX)))
        return
    if step == "evidence":
        if text.strip() in ("完成", "好了", "好", "done", "Done", "OK", "ok"):
            await _finish_evidence(turn, activity, state)
        else:
            turn.reply(
                turn.t("ask_evidence_more", count=len(activity.evidence)),
                _evidence_buttons(turn, activity),
            )
        return
    if step == "date":
        await answer_date(turn, state, activity, text)
    elif step in TEXT_LIMITS:
        await answer_text(turn, state, activity, step, text)
    elif step == "role":
        value, error = parse_role(text)
        if error:
            turn.reply(turn.t(error))
            await _ask(turn, activity, "role", state)
            return
        await _store(turn, state, activity, "role", value)
    elif step == "headcount":
        await answer_headcount(turn, state, activity, text)
    elif step == CONFIRM_HEADCOUNT:
        await _answer_headcount_confirmation(turn, state, activity, text)
    else:  # the card: its buttons are the answer
        turn.reply(turn.t("card_use_buttons"))
        await _ask(turn, activity, step, state)


async def _answer_resume_question(turn: Turn, activity: Activity, text: str) -> None:
    """Typed 继续 / 重新开始 instead of pressing; anything else shows the question again."""
    typed = text.strip()
    if typed in ("继续", "继续填写", "continue", "Continue"):
        await _resume(turn, activity)
    elif typed in ("重新开始", "重新", "restart", "Restart"):
        await _restart(turn, activity)
    else:
        await _offer_resume(turn, activity)


async def ask_again(turn: Turn, state: ChatState) -> None:
    """Repeat the current question (the previous reply may never have reached the user)."""
    if state.activity_id is None:
        return
    activity = await reports.load_activity(turn.session, state.activity_id)
    if activity is not None and state.step in (*FIELD_STEPS, CONFIRM_HEADCOUNT, "review"):
        await _ask(turn, activity, state.step, state)


async def answer_date(turn: Turn, state: ChatState, activity: Activity, text: str) -> None:
    """时间: parse what was typed; refuse the future; warn when the 3-day window has closed."""
    value, error = parse_activity_date(text, turn.today)
    if error:
        turn.reply(turn.t(error))
        return
    assert value is not None
    await _store(turn, state, activity, "date", value)


async def pick_date(turn: Turn) -> None:
    """A quick date button (今天/昨天/前天)."""
    activity = await _pressed_activity(turn, steps=("date",))
    if activity is None:
        return
    assert turn.query and turn.query.data
    value = date.fromisoformat(turn.query.data.split(":")[3])
    if value > turn.today:  # a button from yesterday's chat could point at "tomorrow" now
        turn.notice(turn.t("date_future"), alert=True)
        return
    turn.close_buttons()
    state = await _presser_state(turn)
    await _store(turn, state, activity, "date", value)


async def answer_text(
    turn: Turn, state: ChatState, activity: Activity, step: str, text: str
) -> None:
    """名称 / 内容 / 成效: free text within a length limit."""
    limit = TEXT_LIMITS[step]
    value, error = check_text(text, limit, one_line=step == "name")
    if error:
        field = turn.label(f"label_{step}")
        turn.reply(turn.t(error, field=field, length=len(text.strip()), limit=limit))
        if error == "text_too_long" and len(text) >= SPLIT_LENGTH and turn.message:
            # Telegram clients cut a long paste into 4096-character messages: the rest follows.
            data = dict(state.data)
            data["split_until"] = (turn.message.date + timedelta(seconds=10)).isoformat()
            state.data = data
        return
    if "split_until" in state.data:
        state.data = {k: v for k, v in state.data.items() if k != "split_until"}
    await _store(turn, state, activity, step, value)


async def pick_role(turn: Turn) -> None:
    """主办 / 协办 / 承办 button."""
    activity = await _pressed_activity(turn, steps=("role",))
    if activity is None:
        return
    assert turn.query and turn.query.data
    index = int(turn.query.data.split(":")[3])
    if not 0 <= index < len(ROLES):
        turn.notice(turn.t("button_expired"))
        return
    turn.close_buttons()
    state = await _presser_state(turn)
    await _store(turn, state, activity, "role", ROLES[index])


async def answer_headcount(turn: Turn, state: ChatState, activity: Activity, text: str) -> None:
    """参与人数: a positive whole number, written the way people write it."""
    value, error = parse_headcount(text)
    if error:
        turn.reply(turn.t(error))
        return
    assert value is not None
    if needs_headcount_confirmation(value):
        # Not stored yet: the number waits in the conversation state for 确认.
        await go(turn, activity, CONFIRM_HEADCOUNT, {**state.data, "headcount": value})
        return
    await _store(turn, state, activity, "headcount", value)


async def _answer_headcount_confirmation(
    turn: Turn, state: ChatState, activity: Activity, text: str
) -> None:
    """确认 / 重新填写 typed; a new number is a new answer; anything else asks again."""
    typed = text.strip()
    if typed in CONFIRM_WORDS:
        await _confirmed_headcount(turn, state, activity)
    elif typed in REDO_WORDS:
        await go(turn, activity, "headcount", state.data)
    elif parse_headcount(typed)[0] is not None:
        await answer_headcount(turn, state, activity, typed)
    else:
        await _ask(turn, activity, CONFIRM_HEADCOUNT, state)


async def confirm_headcount(turn: Turn) -> None:
    """确认 / 重新填写 pressed under a large headcount."""
    activity = await _pressed_activity(turn, steps=(CONFIRM_HEADCOUNT,))
    if activity is None:
        return
    assert turn.query and turn.query.data
    state = await _presser_state(turn)
    turn.close_buttons()
    if turn.query.data.endswith(":yes"):
        await _confirmed_headcount(turn, state, activity)
    else:
        await go(turn, activity, "headcount", state.data)


async def _confirmed_headcount(turn: Turn, state: ChatState, activity: Activity) -> None:
    value = state.data.get("headcount")
    if not isinstance(value, int):
        await go(turn, activity, "headcount", state.data)
        return
    await _store(turn, state, activity, "headcount", value)


async def _store(
    turn: Turn, state: ChatState, activity: Activity, step: str, value: object
) -> None:
    """Commit one answer and move on: to the next question, or back to the card when fixing.

    A submitted report is changed only if nobody changed it since this editor opened it;
    otherwise they see the current value and are asked again.
    """
    assert turn.member is not None
    field, tz = reports.FIELD_OF_STEP[step], turn.settings.tz
    if activity.status == ActivityStatus.DRAFT:
        reports.set_field(turn.session, activity, field, value, turn.member.id, tz)
    else:
        opened = int(state.data.get("version", activity.version))
        known = await reports.amend_field(
            turn.session, activity, field, value, turn.member.id, tz, opened
        )
        if known is None:
            log.info("amend conflict on activity %s (member %s)", activity.id, turn.member.id)
            await _tell_conflict(turn, state, activity, step)
            return
        state.data = {**state.data, "version": known}
    if step == "date" and isinstance(value, date):
        closes = window_closes_at(value, turn.settings.tz)
        if turn.now >= closes:
            closed = format_date(value + timedelta(days=3))
            turn.reply(turn.t("date_late_warning", closed=closed))
        elif activity.status == ActivityStatus.DRAFT:
            turn.reply(
                turn.t(
                    "date_window_ok",
                    closes=format_datetime(closes - timedelta(minutes=1), turn.settings.tz),
                )
            )
    editing = bool(state.data.get("editing")) or bool(state.data.get("amend"))
    if editing:
        if activity.status != ActivityStatus.DRAFT:
            turn.reply(turn.t("amend_saved"))
        await go(turn, activity, "review", state.data)
    else:
        await go(turn, activity, reports.next_step(step))


async def _tell_conflict(turn: Turn, state: ChatState, activity: Activity, step: str) -> None:
    """Someone saved the report after this editor opened it: show what it says now, ask again."""
    turn.reply(
        turn.t(
            "amend_conflict",
            field=turn.label(f"label_{step}"),
            current=_current_value(turn, activity, step),
        )
    )
    # They have now been shown the report as it is: their next answer may replace it.
    await go(turn, activity, step, {**state.data, "version": activity.version})


def _current_value(turn: Turn, activity: Activity, step: str) -> str:
    value = getattr(activity, reports.FIELD_OF_STEP[step])
    if value is None:
        return turn.label("card_missing")
    if isinstance(value, date):
        return format_date(value)
    if step == "headcount":
        return turn.label("headcount_value", n=value)
    return shorten(str(value), CARD_CONTENT_CHARS)


# ---------------------------------------------------------------------------------------------
# evidence


def _refused_kind(message: Message) -> str | None:
    for attr, key in (
        ("sticker", "kind_sticker"),
        ("voice", "kind_voice"),
        ("video_note", "kind_video"),
        ("video", "kind_video"),
        ("animation", "kind_video"),
        ("audio", "kind_audio"),
        ("location", "kind_location"),
        ("contact", "kind_contact"),
    ):
        if getattr(message, attr, None):
            return key
    return None


async def receive_evidence(turn: Turn, state: ChatState, activity: Activity) -> None:
    """A photo, an album item or a document: stored at once, whatever the step.

    At the evidence step it is acknowledged as such; earlier it is kept for that step and the
    current question is asked again; on the card the card is shown again with the new count.
    """
    assert turn.member is not None and turn.message is not None
    message = turn.message
    if message.photo:
        photo = message.photo[-1]
        kind, file_id, unique_id, size = (
            "photo",
            photo.file_id,
            photo.file_unique_id,
            photo.file_size,
        )
        name, mime = None, "image/jpeg"
    else:  # receive_message sends only photos and documents here
        doc: Document | None = message.document
        assert doc is not None
        if not is_allowed_document(doc.file_name, doc.mime_type):
            turn.reply(turn.t("evidence_bad_type"))
            return
        if doc.file_size and doc.file_size > MAX_DOWNLOAD_BYTES:
            turn.reply(turn.t("evidence_too_big", size=f"{doc.file_size / 1024 / 1024:.1f} MB"))
            return
        mime = doc.mime_type or ""
        kind = "document"
        file_id, unique_id, size, name = (
            doc.file_id,
            doc.file_unique_id,
            doc.file_size,
            doc.file_name,
        )
    group = message.media_group_id
    if await reports.has_evidence_unique(turn.session, activity.id, unique_id):
        if group is not None:
            _schedule_album_ack(turn, activity, group, state.step)
        else:
            await _acknowledge(turn, state, activity, "evidence_duplicate", 0)
        return
    if size == 0:  # announced empty: no need to download it
        turn.reply(turn.t("evidence_empty"))
        return
    try:
        tg_file = await turn.context.bot.get_file(file_id)
        data = bytes(await tg_file.download_as_bytearray())
    except TelegramError as exc:
        if isinstance(exc, BadRequest) and "too big" in str(exc).lower():
            # The update had no file_size, but getFile knows the file is over the 20 MB limit.
            limit = f">{MAX_DOWNLOAD_BYTES // 1024 // 1024} MB"
            turn.reply(turn.t("evidence_too_big", size=limit))
            return
        log.warning("download failed: %s (update %s)", type(exc).__name__, turn.update.update_id)
        turn.reply(turn.t("evidence_download_failed"))
        return
    refusal = check_photo(data) if message.photo else check_document(data, name, mime)
    if refusal is not None:
        log.info(
            "evidence refused: %s (update %s, member %s)",
            refusal.reason,
            turn.update.update_id,
            turn.member.id,
        )
        _refuse_content(turn, refusal, photo=bool(message.photo))
        if state.step != "evidence":
            await _ask(turn, activity, state.step, state)  # the question it interrupted
        return
    if not message.photo:
        kind = "photo" if is_image(data) else "document"  # what it is, not what it is called
    sha = turn.evidence.put(data)
    before = activity.version
    result = await reports.add_evidence(
        turn.session,
        activity,
        sha256=sha,
        kind=kind,
        size=size or len(data),
        file_name=name,
        mime_type=mime,
        telegram_file_id=file_id,
        telegram_unique_id=unique_id,
        media_group_id=group,
        member_id=turn.member.id,
    )
    _remember_own_change(state, activity, before)
    if group is not None:
        _schedule_album_ack(turn, activity, group, state.step)
    else:
        key = "evidence_received" if result.added else "evidence_duplicate"
        await _acknowledge(turn, state, activity, key, 1 if result.added else 0)


def _remember_own_change(state: ChatState, activity: Activity, before: int) -> None:
    """An editor's own evidence change raises the version; it is no conflict with themselves
    (unless they had not seen the version it replaced)."""
    if "version" in state.data and state.data["version"] == before != activity.version:
        state.data = {**state.data, "version": activity.version}


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
    await turn.session.refresh(activity, ["evidence"])
    total = len(activity.evidence)
    if state.step == "evidence":
        turn.reply(turn.t(key, added=added, total=total), _evidence_buttons(turn, activity))
        return
    turn.reply(
        turn.t(f"{key}_early" if key == "evidence_received" else key, added=added, total=total)
    )
    await _ask(turn, activity, state.step, state)


def _schedule_album_ack(turn: Turn, activity: Activity, group: str, step: str) -> None:
    """Albums arrive as one message per photo: acknowledge once, after the last one."""
    queue = turn.context.job_queue
    if queue is None:
        return
    name = f"album:{turn.chat_id}:{group}"
    for job in queue.get_jobs_by_name(name):
        job.schedule_removal()
    queue.run_once(
        acknowledge_album,
        ALBUM_ACK_DELAY,
        name=name,
        data={
            "chat_id": turn.chat_id,
            "activity_id": activity.id,
            "group": group,
            "step": step,
            "lang": turn.lang,
        },
    )


async def acknowledge_album(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: one message for a whole album, with the count of files received."""
    assert context.job is not None
    data = context.job.data
    assert isinstance(data, dict)
    db: Database = context.bot_data["db"]
    async with db.session() as session:
        activity = await reports.load_activity(session, data["activity_id"])
        if activity is None:
            return
        in_group = sum(1 for e in activity.evidence if e.media_group_id == data["group"])
        total = len(activity.evidence)
    lang = data["lang"]
    if in_group == 0:
        text = t(lang, "evidence_duplicate", total=total)  # the same album sent again
    elif data.get("step", "evidence") == "evidence":
        text = t(lang, "evidence_received", added=in_group, total=total)
    else:
        text = t(lang, "evidence_received_early_album", added=in_group, total=total)
    markup = None
    if data.get("step", "evidence") == "evidence":
        markup = keyboard(evidence_rows(lang, activity.id, total))
    # The album's files are stored already; only the acknowledgement is left to deliver.
    loop = asyncio.get_running_loop()
    await with_retries(
        lambda: context.bot.send_message(
            data["chat_id"], text, parse_mode="HTML", reply_markup=markup
        ),
        deadline=loop.time() + RETRY_BUDGET,
        what=f"the album acknowledgement for report {data['activity_id']}",
    )


def evidence_rows(lang: str, activity_id: int, total: int) -> Buttons:
    """完成 (and 清空重传 once there is something to clear)."""
    row = [(plain(lang, "btn_done"), f"rep:{activity_id}:evdone")]
    if total:
        row.append((plain(lang, "btn_clear_evidence"), f"rep:{activity_id}:evclear"))
    return [row]


def _evidence_buttons(turn: Turn, activity: Activity) -> Buttons:
    return evidence_rows(turn.lang, activity.id, len(activity.evidence))


async def finish_evidence(turn: Turn) -> None:
    """完成: end the evidence step (at least one photo needed)."""
    activity = await _pressed_activity(turn, steps=("evidence",))
    if activity is None:
        return
    state = await _presser_state(turn)
    await _finish_evidence(turn, activity, state)


async def _finish_evidence(turn: Turn, activity: Activity, state: ChatState) -> None:
    if not any(e.kind == "photo" for e in activity.evidence):
        if turn.query:
            turn.notice(turn.t("evidence_need_photo"), alert=True)
        else:
            turn.reply(turn.t("evidence_need_photo"))
        return
    turn.close_buttons()
    await go(turn, activity, "review", state.data)


async def clear_evidence(turn: Turn) -> None:
    """清空重传: drop this report's files and ask again."""
    activity = await _pressed_activity(turn, steps=("evidence",))
    if activity is None:
        return
    assert turn.member is not None
    state = await _presser_state(turn)
    before = activity.version
    await reports.clear_evidence(turn.session, activity, turn.member.id)
    _remember_own_change(state, activity, before)
    turn.close_buttons()
    turn.reply(turn.t("evidence_cleared"))


# ---------------------------------------------------------------------------------------------
# the card: submit, fix a field, cancel


async def submit_report(turn: Turn) -> None:
    """提交: store as submitted and give the reference number."""
    activity = await _pressed_activity(turn, steps=("review",), drafts_only=True)
    if activity is None or turn.member is None:
        return
    missing = reports.first_missing_step(activity, len(activity.evidence))
    if missing != "review":
        turn.notice(turn.t("incomplete", fields=turn.label(f"label_{missing}")), alert=True)
        return
    reports.submit(turn.session, activity, turn.member.id, turn.settings.tz)
    await reports.clear_state(turn.session, turn.member.id)
    turn.edit(render_card(turn, activity))
    text = turn.t("submitted", ref=activity.ref_no, district=activity.organisation.district.name)
    if not activity.on_time:
        text = Raw(text + turn.t("submitted_late", days=activity.late_days))
    turn.reply(text)


async def ask_field_to_fix(turn: Turn) -> None:
    """修改: which answer to change."""
    activity = await _pressed_activity(turn, steps=("review",))
    if activity is None:
        return
    turn.edit(
        render_card(turn, activity) + "\n\n" + turn.t("edit_pick"), field_buttons(turn, activity)
    )


def field_buttons(turn: Turn, activity: Activity) -> Buttons:
    """One button per answer to fix, then 返回 to the card."""
    rows = [[(turn.label(f"label_{s}"), f"rep:{activity.id}:fix:{s}")] for s in FIELD_STEPS]
    rows.append([(turn.label("btn_back"), f"rep:{activity.id}:card")])
    return rows


async def fix_field(turn: Turn) -> None:
    """A field from the 修改 list: ask only that question, then come back to the card."""
    activity = await _pressed_activity(turn, steps=("review",))
    if activity is None or turn.member is None:
        return
    assert turn.query and turn.query.data
    step = turn.query.data.split(":")[3]
    if step not in FIELD_STEPS:
        turn.notice(turn.t("button_expired"))
        return
    state = await reports.get_state(turn.session, turn.member.id)
    data = dict(state.data if state else {})
    data["editing"] = True
    turn.close_buttons()
    await go(turn, activity, step, data)


async def show_card(turn: Turn) -> None:
    """返回 from the field list or the cancel question: the card again."""
    activity = await _pressed_activity(turn, steps=("review",))
    if activity is None:
        return
    turn.edit(render_card(turn, activity), _card_buttons(turn, activity))


async def finish_amend(turn: Turn) -> None:
    """修改完成 on a submitted report's card: leave the flow; every change is already saved."""
    activity = await _pressed_activity(turn, steps=("review",))
    if activity is None or turn.member is None:
        return
    await reports.clear_state(turn.session, turn.member.id)
    turn.edit(render_card(turn, activity))
    turn.reply(turn.t("amend_done"))


async def ask_cancel(turn: Turn) -> None:
    """取消 on the card: ask before throwing anything away."""
    activity = await _pressed_activity(turn, steps=("review",))
    if activity is None:
        return
    turn.edit(
        render_card(turn, activity) + "\n\n" + turn.t("cancel_confirm"),
        [
            [
                (turn.label("btn_cancel_yes"), f"rep:{activity.id}:discard"),
                (turn.label("btn_cancel_no"), f"rep:{activity.id}:card"),
            ]
        ],
    )


async def discard_draft(turn: Turn) -> None:
    """确认放弃 / 放弃草稿: the draft is marked cancelled and the flow ends."""
    activity = await _pressed_activity(turn, steps=None, drafts_only=True)
    if activity is None or turn.member is None:
        return
    reports.cancel_draft(activity)
    await reports.clear_state(turn.session, turn.member.id)
    turn.edit(turn.t("report_cancelled"))


async def keep_draft(turn: Turn) -> None:
    """保留草稿 after /cancel: leave the flow, keep every answer."""
    activity = await _pressed_activity(turn, steps=None, drafts_only=True)
    if activity is None or turn.member is None:
        return
    await reports.clear_state(turn.session, turn.member.id)
    turn.edit(turn.t("draft_kept"))


async def cancel_report(turn: Turn, state: ChatState) -> None:
    """/cancel inside the report flow."""
    assert turn.member is not None
    activity = (
        await reports.load_activity(turn.session, state.activity_id) if state.activity_id else None
    )
    if activity is None or activity.status != ActivityStatus.DRAFT:
        await reports.clear_state(turn.session, turn.member.id)
        turn.reply(turn.t("flow_left"))
        return
    turn.reply(
        turn.t("cancel_ask"),
        [
            [
                (turn.label("btn_keep_draft"), f"rep:{activity.id}:keep"),
                (turn.label("btn_discard_draft"), f"rep:{activity.id}:discard"),
            ]
        ],
    )


# ---------------------------------------------------------------------------------------------
# asking and rendering


async def go(turn: Turn, activity: Activity, step: str, data: dict | None = None) -> None:
    """Record the new step and ask its question (or show the card)."""
    assert turn.member is not None
    keep = dict(data or {})
    if step == CONFIRM_HEADCOUNT:
        keep = {k: v for k, v in keep.items() if k in (*CARRIED, "headcount")}
    elif step != "review":
        keep = {k: v for k, v in keep.items() if k in CARRIED}
    else:
        keep.pop("editing", None)
        keep.pop("headcount", None)
    state = await reports.set_state(turn.session, turn.member.id, FLOW, step, activity.id, keep)
    await turn.session.refresh(activity, ["evidence"])
    await _ask(turn, activity, step, state)


async def _ask(turn: Turn, activity: Activity, step: str, state: ChatState) -> None:
    if step == "date":
        today = turn.today
        md = [f"{d.month}月{d.day}日" for d in (today, today - timedelta(1), today - timedelta(2))]
        turn.reply(
            turn.t("ask_date"),
            [
                [
                    (
                        turn.label("btn_today", md=md[0]),
                        f"rep:{activity.id}:date:{today.isoformat()}",
                    ),
                    (
                        turn.label("btn_yesterday", md=md[1]),
                        f"rep:{activity.id}:date:{(today - timedelta(1)).isoformat()}",
                    ),
                    (
                        turn.label("btn_day_before", md=md[2]),
                        f"rep:{activity.id}:date:{(today - timedelta(2)).isoformat()}",
                    ),
                ]
            ],
        )
    elif step == "name":
        turn.reply(turn.t("ask_name", limit=NAME_MAX))
    elif step == "content":
        turn.reply(turn.t("ask_content"))
    elif step == "role":
        turn.reply(
            turn.t("ask_role"), [[(r, f"rep:{activity.id}:role:{i}") for i, r in enumerate(ROLES)]]
        )
    elif step == "headcount":
        turn.reply(turn.t("ask_headcount"))
    elif step == CONFIRM_HEADCOUNT:
        turn.reply(
            turn.t("headcount_confirm", n=state.data.get("headcount")),
            [
                [
                    (turn.label("btn_headcount_yes"), f"rep:{activity.id}:hc:yes"),
                    (turn.label("btn_headcount_redo"), f"rep:{activity.id}:hc:no"),
                ]
            ],
        )
    elif step == "outcome":
        turn.reply(turn.t("ask_outcome"))
    elif step == "evidence":
        text = turn.t("ask_evidence")
        if activity.evidence:
            text = Raw(text + "\n" + turn.t("ask_evidence_more", count=len(activity.evidence)))
        turn.reply(text, _evidence_buttons(turn, activity))
    elif step == "review":
        turn.reply(render_card(turn, activity), _card_buttons(turn, activity, state))


def _card_buttons(turn: Turn, activity: Activity, state: ChatState | None = None) -> Buttons:
    if activity.status == ActivityStatus.DRAFT:
        return [
            [(turn.label("btn_submit"), f"rep:{activity.id}:submit")],
            [
                (turn.label("btn_edit"), f"rep:{activity.id}:edit"),
                (turn.label("btn_cancel"), f"rep:{activity.id}:cancel"),
            ],
        ]
    return [
        [
            (turn.label("btn_edit"), f"rep:{activity.id}:edit"),
            (turn.label("btn_done_editing"), f"rep:{activity.id}:amended"),
        ]
    ]


def render_card(turn: Turn, activity: Activity) -> Raw:
    """Every answer, the lateness and the evidence count, in one message that fits Telegram."""
    org = activity.organisation
    title = (
        turn.t("card_title_submitted", ref=activity.ref_no, org=org.name)
        if activity.ref_no and activity.status != ActivityStatus.DRAFT
        else turn.t("card_title", org=org.name)
    )
    lines = [title, "", *answer_lines(turn.lang, activity, CARD_CONTENT_CHARS)]
    if activity.status != ActivityStatus.DRAFT:
        status = turn.label(f"status_{activity.status}")
        lines.append(card_line(turn.lang, "label_status", status))
    lines.append(_lateness(turn, activity))
    return Raw("\n".join(lines))


def _lateness(turn: Turn, activity: Activity) -> str:
    if activity.activity_date is None:
        return ""
    if activity.submitted_at is not None:
        if activity.on_time:
            return turn.t("card_on_time")
        return turn.t("card_late", days=activity.late_days)
    judged = timeliness(activity.activity_date, turn.now, turn.settings.tz)
    return turn.t("card_on_time") if judged.on_time else turn.t("card_late_pending")


# ---------------------------------------------------------------------------------------------
# checks


async def _may_report(turn: Turn, org_id: int) -> bool:
    org = await reports.org_of(turn.session, org_id)
    if org is None or not org.active:
        return False
    return allowed(turn.actor, Action.REPORT, Target(district_id=org.district_id, org_id=org.id))


def report_target(activity: Activity) -> Target:
    """What the policy needs to know about a report: its association, district and author."""
    org = activity.organisation
    return Target(district_id=org.district_id, org_id=org.id, author_member_id=activity.author_id)


def may_amend(turn: Turn, activity: Activity) -> bool:
    """Whether the member may change or withdraw a submitted report now: its author or the org
    admin, until the annual deadline of the report's year."""
    if not allowed(turn.actor, Action.EDIT_REPORT, report_target(activity)):
        return False
    if activity.activity_date is None:
        return False
    month, day = turn.settings.deadline_month_day()
    return turn.today <= editable_until(activity.activity_date, month, day)


def _may_edit(turn: Turn, activity: Activity) -> bool:
    """A draft is its author's alone; a submitted report follows :func:`may_amend`."""
    if activity.status == ActivityStatus.DRAFT:
        return activity.author_id == turn.actor.member_id and allowed(
            turn.actor, Action.REPORT, report_target(activity)
        )
    return may_amend(turn, activity)


async def _presser_state(turn: Turn) -> ChatState:
    """The state of whoever pressed (an org admin amends a report someone else wrote)."""
    assert turn.member is not None
    state = await reports.get_state(turn.session, turn.member.id)
    assert state is not None  # _pressed_activity checked it
    return state


async def _ended_org(turn: Turn, activity: Activity) -> Organisation | None:
    """The report's association, if the member's role there was removed."""
    assert turn.member is not None
    for org in await reports.ended_orgs(turn.session, turn.member.id):
        if org.id == activity.org_id:
            return org
    return None


async def _tell_if_ended(turn: Turn, activity: Activity, *, toast: bool = False) -> bool:
    """Say that the member's membership of the report's association ended (and how to get a
    new invitation) instead of "not found"; their draft there is set aside, since nobody can
    finish it. False when that is not why they may not act on it."""
    org = await _ended_org(turn, activity)
    if org is None:
        return False
    assert turn.member is not None
    log.info("member %s acted on activity %s after removal", turn.member.id, activity.id)
    if activity.status == ActivityStatus.DRAFT and activity.author_id == turn.member.id:
        reports.cancel_draft(activity)
        state = await reports.get_state(turn.session, turn.member.id)
        if state is not None and state.activity_id == activity.id:
            await reports.clear_state(turn.session, turn.member.id)
        text = turn.t(
            "membership_ended_draft",
            org=org.name,
            name=activity.name or turn.label("report_untitled"),
        )
    else:
        text = turn.t("membership_ended", org=org.name)
    if toast:
        turn.notice(text, alert=True)
    else:
        turn.reply(text)
    return True


async def _pressed_activity(
    turn: Turn, *, steps: tuple[str, ...] | None, drafts_only: bool = False
) -> Activity | None:
    """The activity a ``rep:<id>:…`` button refers to, if the presser may still act on it now."""
    assert turn.query and turn.query.data
    if turn.member is None:
        turn.notice(turn.t("stranger"), alert=True)
        return None
    try:
        activity_id = int(turn.query.data.split(":")[1])
    except (IndexError, ValueError):
        turn.notice(turn.t("button_expired"))
        return None
    activity = await reports.load_activity(turn.session, activity_id)
    if activity is None or not _may_edit(turn, activity):
        if activity is None or not await _tell_if_ended(turn, activity, toast=True):
            turn.notice(turn.t("not_found_or_denied"), alert=True)
        return None
    if drafts_only and activity.status != ActivityStatus.DRAFT:
        turn.notice(turn.t("button_expired"))
        return None
    if steps is not None:
        state = await reports.get_state(turn.session, turn.member.id)
        if (
            state is None
            or state.flow != FLOW
            or state.activity_id != activity.id
            or state.step not in steps
        ):
            turn.notice(turn.t("button_expired"))
            return None
    return activity
