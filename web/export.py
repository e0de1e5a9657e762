"""Console pages: export — the chat's ``/export`` choices in one form (annex 1-3 / 1-1 / 1-2 or
all three, the year, the district or the whole city, only approved reports, with or without the
evidence bundle), a progress page that refreshes itself while the export runs, then the files
to download. The export itself runs as the chat's does (``web/export_runs.py``) and its files
also arrive in the admin's chat.

Every run page and download is checked against the policy again; another district's run is a
404, as a missing one is. The places offered and starting a run (its policy check and job) are
``services/export.py``'s, shared with the chat.
"""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from core.rules import EARLIEST_DATE
from core.texts import plain
from exports import runs
from exports.service import CHOICES, human_size
from services import export as exporting
from services.export import RunKey, parse_run_key
from storage.export_jobs import get_job, recent_jobs
from storage.models import ExportJob, utcnow
from storage.registry import district_of
from web.export_runs import PROGRESS, WebRun, forget_old_runs, is_stale, run_files, start
from web.page import Page, Refused, form_value, not_found, page
from web.params import number, path_id

log = logging.getLogger(__name__)

RECENT = 5  # the visitor's latest runs listed under the form
REFRESH_SECONDS = 2  # the progress page reloads itself this often
CITY = "city"


def _this_year(p: Page) -> int:
    """The statistical year open today (in December already the next calendar year's)."""
    return p.settings.years.year_of(utcnow().astimezone(p.settings.tz).date())


def _label(lang: str, annex: str) -> str:
    return plain(lang, f"export_annex_{annex.replace('-', '')}")


async def _form(p: Page, status: int = 200, problem: str | None = None) -> Response:
    recent = await recent_jobs(p.db, p.member.id, RECENT)
    runs = [(job, parse_run_key(job.scope)) for job in recent]
    this_year = _this_year(p)
    places = await exporting.places(p.db, p.actor)
    return p.render(
        "export.html",
        status=status,
        active="export",
        annexes=CHOICES,
        years=list(range(this_year, EARLIEST_DATE.year - 1, -1)),
        this_year=this_year,
        districts=places.districts,
        city=places.city,
        runs=[(job, key, _label(p.lang, key.annex)) for job, key in runs if key is not None],
        problem=problem,
    )


async def export_form(request: Request) -> Response:
    """The choices."""
    async with page(request) as p:
        return await _form(p)


async def start_export(request: Request) -> Response:
    """Start the run (services.export checks the choices against the policy and claims the
    job), then the export in the background; send the browser to its progress page."""
    async with page(request, post=True) as p:
        annex = form_value(request, "annex")
        year_text = form_value(request, "year")
        where = form_value(request, "where")
        year = number(year_text, EARLIEST_DATE.year, _this_year(p))
        if annex not in CHOICES or year is None:
            raise Refused(400, "web_bad_request")
        approved_only = form_value(request, "approved_only") == "1"
        bundle = form_value(request, "bundle") == "1"
        district_id = None if where == CITY else number(where)
        if where != CITY and not district_id:
            raise not_found()
        started = await exporting.start_run(
            p.db,
            p.actor,
            annex=annex,
            year=year,
            district_id=district_id,
            approved_only=approved_only,
            years=p.settings.years,
            bundle=bundle,
        )
        if started is exporting.Refusal.BUSY:
            return await _form(p, 409, started)
        if started is exporting.Refusal.NOT_ALLOWED:
            if district_id is not None:
                raise not_found()  # another district's is not even said to exist
            log.info("console: member %s refused a city export", p.member.id)
            raise Refused(403, "web_export_city_only")
        assert isinstance(started, exporting.Started)
        place = started.district.name if started.district else plain(p.lang, "export_where_city")
        job_id = started.job_id
        run = WebRun(
            job_id=job_id,
            member_id=p.member.id,
            to=p.member.address(),
            lang=p.lang,
            scope=started.scope,
            annex=annex,
            bundle=bundle,
            heading=plain(
                p.lang, "export_heading", annex=_label(p.lang, annex), where=place, year=year
            ),
        )
        location = p.href(f"/export/{job_id}")
        log.info("console: export %s started by member %s", job_id, p.member.id)
    # The job row is committed now: the background run's confirm_job can see it.
    forget_old_runs(p.console)
    start(p.console, run)
    return RedirectResponse(location, status_code=303)


async def _run_in_scope(p: Page, run_id: int) -> tuple[ExportJob, RunKey]:
    """The run, if the visitor may export its scope; else 404 (as a missing run)."""
    job = await get_job(p.db, path_id(run_id))
    key = parse_run_key(job.scope) if job is not None else None
    if job is None or key is None:
        raise not_found()
    if not exporting.may_export(p.actor, key.district_id):
        log.info("console: member %s asked for export %s outside scope", p.member.id, run_id)
        raise not_found()
    return job, key


async def show_run(request: Request) -> Response:
    """While running: the progress, refreshed; then the files with their download links."""
    async with page(request) as p:
        job, key = await _run_in_scope(p, request.path_params["run_id"])
        where = plain(p.lang, "export_where_city")
        if key.district_id is not None:
            district = await district_of(p.db, key.district_id)
            where = district.name if district else ""
        state = runs.FAILED if is_stale(job) else job.status
        files = run_files(p.console, job.id) if state == runs.DONE else []
        stage = PROGRESS.get(job.id)
        return p.render(
            "export_run.html",
            active="export",
            job=job,
            key=key,
            state=state,
            running=state == runs.RUNNING,
            refresh=REFRESH_SECONDS,
            heading=plain(
                p.lang,
                "export_heading",
                annex=_label(p.lang, key.annex),
                where=where,
                year=key.year,
            ),
            stage=stage,
            files=[
                (f.name, human_size(f.stat().st_size), p.href(f"/export/{job.id}/{f.name}"))
                for f in files
            ],
        )


async def download(request: Request) -> Response:
    """One file of a finished run, streamed, under its Chinese name."""
    name = str(request.path_params["file"])
    async with page(request) as p:
        job, _key = await _run_in_scope(p, request.path_params["run_id"])
        if job.status != runs.DONE:
            raise not_found()
        # Only a name the run's folder lists: nothing else on disk can be reached.
        found: Path | None = next((f for f in run_files(p.console, job.id) if f.name == name), None)
        if found is None:
            raise not_found()
        log.info("console: member %s downloads a file of export %s", p.member.id, job.id)
    return FileResponse(found, filename=found.name, content_disposition_type="attachment")


routes: list[BaseRoute] = [
    Route("/export", export_form, methods=["GET"], name="export"),
    Route("/export", start_export, methods=["POST"], name="export_start"),
    Route("/export/{run_id:int}", show_run, methods=["GET"], name="export_run"),
    Route("/export/{run_id:int}/{file}", download, methods=["GET"], name="export_file"),
]
