"""Prometheus metrics of one kexie process (served at ``GET /metrics`` in webhook mode).

Counters that happen in this process (updates handled, Bot API calls) live in a private
registry, so tests and several applications in one interpreter never collide on the global
one. Figures that belong to the whole installation (outbox depth, reports submitted, exports
run) are read from the database when scraped (:func:`refresh_from_database`): every instance
reports the same values for them, whichever the load balancer asked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.http import AiohttpRequest
from storage.db import AsyncSession
from storage.metrics import installation_figures
from storage.models import utcnow

REGISTRY = CollectorRegistry(auto_describe=True)

UPDATES = Counter(
    "kexie_updates_handled",
    "Telegram updates handled, by type (message, callback_query, ...) and outcome",
    ["type", "outcome"],
    registry=REGISTRY,
)
HANDLER_SECONDS = Histogram(
    "kexie_handler_seconds",
    "Time from receiving an update to its committed transaction and replies",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
    registry=REGISTRY,
)
API_CALLS = Counter(
    "kexie_bot_api_calls",
    "Bot API requests, by method and HTTP status (429 included; 'error' when no answer)",
    ["method", "status"],
    registry=REGISTRY,
)
API_ERRORS = Counter(
    "kexie_bot_api_errors",
    "Bot API requests that failed (status >= 400, or no answer), by method and status",
    ["method", "status"],
    registry=REGISTRY,
)
OUTBOX_ROWS = Gauge(
    "kexie_outbox_rows",
    "Outbox rows by state (whole installation)",
    ["state"],
    registry=REGISTRY,
)
OUTBOX_OLDEST_PENDING = Gauge(
    "kexie_outbox_oldest_pending_seconds",
    "Age of the oldest due row not sent yet (0 when none)",
    registry=REGISTRY,
)
REPORTS_SUBMITTED = Gauge(
    "kexie_reports_submitted",
    "Reports submitted (whole installation)",
    registry=REGISTRY,
)
EXPORTS_RUN = Gauge(
    "kexie_exports_run",
    "Exports by outcome (whole installation)",
    ["status"],
    registry=REGISTRY,
)
SENDER_LAST_RUN = Gauge(
    "kexie_sender_last_run_timestamp_seconds",
    "When this process's outbox sender last finished a run (Unix time)",
    registry=REGISTRY,
)

# Outbox states always exported (a state with no rows shows 0 instead of vanishing).
_STATES = ("pending", "sending", "sent", "failed", "blocked", "expired", "skipped")


def api_method(url: str) -> str:
    """The Bot API method of a request URL, without the token (``…/bot<token>/sendMessage``
    → ``sendMessage``; a file download → ``file``)."""
    if "/file/bot" in url:
        return "file"
    return url.rstrip("/").rsplit("/", 1)[-1][:64] or "?"


def count_api_call(url: str, status: int | None) -> None:
    """Count one Bot API request; ``status`` None when it got no answer (timeout, network)."""
    method = api_method(url)
    label = "error" if status is None else str(status)
    API_CALLS.labels(method, label).inc()
    if status is None or status >= 400:
        API_ERRORS.labels(method, label).inc()


def update_type(raw: object) -> str:
    """The kind of a raw update (``message``, ``callback_query``…), for a label."""
    if isinstance(raw, dict):
        kinds = sorted(k for k in raw if k != "update_id")
        if kinds:
            return kinds[0][:32]
    return "unknown"


async def refresh_from_database(session: AsyncSession, now: datetime | None = None) -> None:
    """Set the installation-wide gauges from the database (called at each scrape)."""
    now = now or utcnow()
    figures = await installation_figures(session, now)
    counts = figures.outbox
    for state in set(_STATES) | set(counts):
        OUTBOX_ROWS.labels(state).set(counts.get(state, 0))
    oldest = figures.oldest_due
    if oldest is not None and oldest.tzinfo is None and now.tzinfo is not None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    OUTBOX_OLDEST_PENDING.set(max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
    REPORTS_SUBMITTED.set(figures.submitted)
    for status, count in figures.exports.items():
        EXPORTS_RUN.labels(status).set(count)


def render() -> bytes:
    """The metrics in Prometheus' text format."""
    return generate_latest(REGISTRY)


class CountingRequest(AiohttpRequest):
    """The Bot API's HTTP layer (aiohttp, ``bot/http.py``), counting every request by method
    and status (each attempt of a retried one, and each 429, counts)."""

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        """See :meth:`telegram.request.BaseRequest.do_request`."""
        try:
            code, payload = await super().do_request(url, method, *args, **kwargs)
        except Exception:
            count_api_call(url, None)
            raise
        count_api_call(url, code)
        return code, payload
