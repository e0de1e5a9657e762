"""A registry spreadsheet (.xlsx / .xls) sent to the bot outside any flow: a district or city
admin's all-or-nothing import of annex 1-1 / 1-2 (drawn in ``registry_import.mmd``)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from core.policy import Action
from core.texts import Raw
from handlers.common import Turn
from handlers.port import FetchFailed
from handlers.router import route_message
from services import registry
from storage import chat_state
from storage.import_archive import MAX_FILE_BYTES
from storage.import_sheet import ImportResult
from storage.importer import (
    error_lines,
    note_lines,
    read_sheet_isolated,
    sheet_district,
    sheet_result,
)
from storage.models import District
from storage.registry import districts_for_actor

log = logging.getLogger(__name__)


async def receive_spreadsheet(turn: Turn) -> None:
    """An .xlsx / .xls document: a district or city admin's registry import (all-or-nothing).

    Inside a flow (e.g. as a report's evidence) the file belongs to that flow; from anyone else
    who may not import it is answered with who may. The file goes to a temporary file and is
    read in a bounded child process (``read_sheet_isolated``): the bot keeps its memory and its
    event loop. A city admin's sheet goes to the district its summary row names.
    """
    assert turn.files
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    state = await chat_state.get_state(turn.session, turn.member.id)
    if state is not None:
        await route_message(turn)
        return
    districts = await districts_for_actor(turn.session, turn.actor, Action.IMPORT_REGISTRY)
    if not districts:
        turn.reply(turn.t("imp_admins_only"))
        return
    document = turn.files[0]
    if document.size and document.size > MAX_FILE_BYTES:
        turn.reply(turn.t("imp_err_too_big"))
        return
    with tempfile.TemporaryDirectory(prefix="kexie-import-") as folder:
        path = Path(folder) / "registry.xlsx"
        try:
            await document.save(path)
        except FetchFailed as exc:
            log.warning("update %s: download failed (%s)", turn.update_key, exc)
            turn.reply(turn.t("imp_download_failed"))
            return
        sheet = await read_sheet_isolated(path, None, turn.today)
    if sheet.errors:
        _reply_failure(turn, sheet_result(sheet, None))
        return
    district: District | None = districts[0]
    if len(districts) > 1:
        named = await sheet_district(turn.session, sheet)
        district = next((d for d in districts if named is not None and d.id == named.id), None)
        if district is None:
            turn.reply(turn.t("imp_name_district"))
            return
    assert district is not None
    imported = await registry.import_sheet(
        turn.session, turn.actor, district, sheet, None, turn.today
    )
    result = imported.result
    if result is None:
        turn.reply(turn.t(imported.key or registry.NOT_ALLOWED))
        return
    if not result.ok:
        _reply_failure(turn, result)
        return
    done = turn.t(
        "imp_done",
        annex=result.annex,
        district=district.name,
        created=len(result.created),
        updated=len(result.updated),
    )
    if result.notes:
        notes = turn.t("imp_merged_title", lines="\n".join(note_lines(result.notes, turn.label)))
        done = Raw(f"{done}\n\n{notes}")
    turn.reply(done)


def _reply_failure(turn: Turn, result: ImportResult) -> None:
    """A file refused as a whole gets its one sentence; problems in cells get the list."""
    if len(result.errors) == 1 and not result.errors[0].row:
        turn.reply(turn.t(result.errors[0].key, **result.errors[0].params))
        return
    lines = error_lines(result, turn.label, limit=25)
    turn.reply(turn.t("imp_failed", n=len(result.errors), lines="\n".join(lines)))
