"""Console pages: one report (every field, its audit history, photos and documents), its
evidence files and thumbnails, and the review decision (通过 / 退回).

The decision is the chat's own use case (:func:`services.review.approve` /
:func:`services.review.return_report`: the report's lock, the policy's ``REVIEW_REPORT``, the
state check, the audit entry, and for a return the reporter's ``Kind.REPORT_RETURNED`` message
queued in the decision's transaction); this page renders its result and wakes the sender once
the transaction has committed.

Anything missing, a draft, or outside the visitor's districts answers 404, the same page.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from core.cards import answers, year_notes
from core.enums import ActivityStatus
from core.policy import Action, allowed
from core.review_rules import ReviewState
from core.texts import plain
from scheduler.rows import Timing
from services import review as decide
from storage import console_report as store
from storage.evidence import EvidenceMissing
from storage.models import Activity, Evidence
from storage.reports import report_target
from storage.thumbnails import thumbnail
from web import report_files
from web.page import HERE, Page, form_value, not_found, page
from web.params import number, path_id
from web.report_history import history_lines

log = logging.getLogger(__name__)

WHOLE = 1_000_000  # the console shows long answers whole (the chat's card shortens them)
PLACEHOLDER = (HERE / "static" / "no-thumb.svg").read_bytes()


async def _visible(p: Page, report_id: int) -> Activity:
    """The report, if the visitor may see it (404 otherwise, whether it exists or not)."""
    activity = await store.load_report(p.db, path_id(report_id))
    if activity is None or not allowed(p.actor, Action.VIEW_REPORTS, report_target(activity)):
        raise not_found()
    return activity


def _fields(p: Page, activity: Activity) -> list[tuple[str, str]]:
    """(label, value) for every field, answers in the order the chat asks them."""
    lang = p.lang
    missing = plain(lang, "card_missing")

    def value(v: object) -> str:
        return missing if v is None or v == "" else str(v)

    org = activity.organisation
    rows = [
        (plain(lang, "web_report_ref"), value(activity.ref_no)),
        (plain(lang, "web_report_association"), org.name),
        (plain(lang, "web_report_district"), org.district.name),
    ]
    rows += [(plain(lang, key), value(v)) for key, v in answers(lang, activity, WHOLE)]
    submitted = activity.submitted_at
    rows += [
        (
            plain(lang, "label_author"),
            value(activity.author.first_name if activity.author else None),
        ),
        (
            plain(lang, "label_submitted_at"),
            value(p.moment(submitted) if submitted else None),
        ),
        (plain(lang, "label_status"), plain(lang, f"status_{activity.status}")),
    ]
    return rows


async def _review_line(p: Page, activity: Activity) -> Any:
    """审核状态 as the chat's card says it: the state, and who decided when (and why)."""
    state = activity.review_state
    if activity.status != ActivityStatus.SUBMITTED or state is None:
        return None
    by = await store.reviewer_name(p.db, activity)
    when = p.moment(activity.reviewed_at) if activity.reviewed_at else ""
    if state == ReviewState.APPROVED:
        return p.t("review_outcome_approved", by=by or "", when=when)
    if state == ReviewState.RETURNED:
        reason = activity.review_reason or ""
        return p.t("review_outcome_returned", by=by or "", when=when, reason=reason)
    return p.t("review_state_pending")


def _may_decide(p: Page, activity: Activity) -> bool:
    return (
        activity.status == ActivityStatus.SUBMITTED
        and activity.review_state == ReviewState.PENDING
        and allowed(p.actor, Action.REVIEW_REPORT, report_target(activity))
    )


async def _render(
    p: Page,
    activity: Activity,
    *,
    status: int = 200,
    notice: Any = None,
    error: Any = None,
    reason: str = "",
    last: bool = False,
) -> Response:
    entries, total = await store.history(p.db, activity.id)
    photos = [e for e in activity.evidence if e.kind == "photo"]
    documents = [
        (e, report_files.download_name(e, activity.ref_no or "", e.position + 1))
        for e in activity.evidence
        if e.kind != "photo"
    ]
    return p.render(
        "report.html",
        status=status,
        active="reports",
        activity=activity,
        fields=_fields(p, activity),
        review_line=await _review_line(p, activity),
        late=activity.submitted_at is not None and activity.on_time is False,
        # Escaped already (core.texts.t): markup for the page as for the chat.
        year_notes=[
            Markup(note)
            for note in year_notes(
                p.lang,
                activity.activity_date,
                activity.submitted_at,
                p.settings.tz,
                p.settings.years,
            )
        ],
        history=history_lines(p, entries),
        history_cut=total - len(entries),
        photos=photos,
        documents=documents,
        may_decide=_may_decide(p, activity),
        notice=notice,
        error=error,
        reason=reason,
        last=last,
    )


async def _notice_after(p: Page, after: str | None) -> Any:
    """The outcome of the decision just made (``?after=<id>``), read from the database, so a
    link cannot make the page claim anything."""
    decided_id = number(after)
    if decided_id is None:
        return None
    decided = await store.load_report(p.db, decided_id)
    if decided is None or not allowed(p.actor, Action.VIEW_REPORTS, report_target(decided)):
        return None
    state = decided.review_state
    if state not in (ReviewState.APPROVED, ReviewState.RETURNED):
        return None
    return p.t(f"web_report_done_{state}", ref=decided.ref_no or "")


async def show_report(request: Request) -> Response:
    """``GET /reports/{id}``: the report, its history, its evidence, 通过 / 退回."""
    async with page(request) as p:
        activity = await _visible(p, request.path_params["report_id"])
        after = request.query_params.get("after")
        notice = await _notice_after(p, after)
        last = notice is not None and request.query_params.get("last") == "1"
        return await _render(p, activity, notice=notice, last=last)


async def _decided(p: Page, report_id: int, result: decide.ReviewResult) -> Activity:
    """The report a decision was asked about, as the page shows it; 404 for a refusal (the
    same page whether the report exists or not)."""
    if result.outcome == decide.Outcome.REFUSED:
        raise not_found()
    activity = await store.load_report(p.db, path_id(report_id))
    if activity is None:
        raise not_found()
    return activity


async def _already(p: Page, activity: Activity, result: decide.ReviewResult) -> Response:
    """Someone decided first: who and when, as the chat says it; nothing overwritten."""
    state = plain(p.lang, result.standing)
    if result.key == "review_already" and result.by is not None and result.at is not None:
        when = p.moment(result.at)
        notice = p.t("review_already", by=result.by, when=when, state=state)
    else:
        notice = p.t("review_already_state", state=state)
    return await _render(p, activity, status=409, notice=notice)


async def _next(p: Page, decided: Activity) -> str:
    """Where a decision leads: the next report waiting in the visitor's scope, or (none left)
    back to the decided report, saying the queue is empty."""
    following = await store.next_pending(p.db, p.districts)
    if following is None:
        return p.href(f"/reports/{decided.id}", {"after": decided.id, "last": 1})
    return p.href(f"/reports/{following.id}", {"after": decided.id})


async def approve_report(request: Request) -> Response:
    """``POST /reports/{id}/approve``: 通过, as the chat's button (:func:`services.review.approve`:
    two admins deciding at once, here or in the chat, make one decision, and the second is
    told the first)."""
    async with page(request, post=True) as p:
        report_id = request.path_params["report_id"]
        result = await decide.approve(p.db, p.actor, path_id(report_id))
        activity = await _decided(p, report_id, result)
        if not result.done:
            return await _already(p, activity, result)
        target = await _next(p, activity)
        log.info("console: report %s approved by member %s", activity.id, p.member.id)
    return RedirectResponse(target, status_code=303)


async def return_report(request: Request) -> Response:
    """``POST /reports/{id}/return``: 退回 with a reason (the chat's rule); too short or too
    long, the page again with the sentence, nothing changed."""
    async with page(request, post=True) as p:
        report_id = request.path_params["report_id"]
        typed = form_value(request, "reason")
        timing = Timing.from_settings(p.settings)
        result = await decide.return_report(p.db, p.actor, path_id(report_id), typed, timing=timing)
        activity = await _decided(p, report_id, result)
        if result.outcome == decide.Outcome.INVALID:
            error = p.t(result.key or "review_reason_short")
            return await _render(p, activity, status=400, error=error, reason=typed)
        if not result.done:
            return await _already(p, activity, result)
        target = await _next(p, activity)
        log.info("console: report %s returned by member %s", activity.id, p.member.id)
    if result.queued:
        p.console.wake()
    return RedirectResponse(target, status_code=303)


async def _evidence(p: Page, evidence_id: int) -> Evidence:
    """An evidence file, if the visitor may see its report (404 otherwise)."""
    evidence = await store.load_evidence(p.db, path_id(evidence_id))
    if evidence is None or not allowed(
        p.actor, Action.VIEW_REPORTS, report_target(evidence.activity)
    ):
        raise not_found()
    return evidence


async def evidence_file(request: Request) -> Response:
    """``GET /evidence/{id}``: the whole file, streamed (photos inline, documents downloaded
    under their own name)."""
    async with page(request) as p:
        evidence = await _evidence(p, request.path_params["evidence_id"])
        ref = evidence.activity.ref_no or ""
        name = report_files.download_name(evidence, ref, evidence.position + 1)
        store_ = p.console.store
    response = await report_files.stream(store_, evidence, name)
    if response is None:
        log.warning("console: evidence %s has no stored bytes", evidence.id)
        raise not_found()
    return response


async def evidence_thumb(request: Request) -> Response:
    """``GET /evidence/{id}/thumb``: a JPEG of at most 320 px for a photo; a placeholder
    picture when the photo cannot have one (unreadable, or too large to decode safely)."""
    async with page(request) as p:
        evidence = await _evidence(p, request.path_params["evidence_id"])
        if evidence.kind != "photo" or p.console.store is None:
            raise not_found()
        sha256, store_ = evidence.sha256, p.console.store
        cache = p.settings.data_dir / "cache" / "thumbs"
    try:
        jpeg = await asyncio.to_thread(thumbnail, store_, sha256, cache)
    except (EvidenceMissing, ValueError):
        raise not_found() from None
    if jpeg is None:
        return Response(PLACEHOLDER, media_type="image/svg+xml", headers={"x-thumbnail": "none"})
    return Response(jpeg, media_type="image/jpeg")


routes: list[BaseRoute] = [
    Route("/reports/{report_id:int}", show_report, methods=["GET"], name="report"),
    Route("/reports/{report_id:int}/approve", approve_report, methods=["POST"]),
    Route("/reports/{report_id:int}/return", return_report, methods=["POST"]),
    Route("/evidence/{evidence_id:int}", evidence_file, methods=["GET"], name="evidence"),
    Route("/evidence/{evidence_id:int}/thumb", evidence_thumb, methods=["GET"]),
]
