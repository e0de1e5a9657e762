"""Importing a district's registry (annex 1-1 or 1-2) as a use case: the chat's file upload and
``kexie import`` call :func:`import_sheet`; neither writes an association itself.

The sheet is read before (:func:`storage.importer.read_sheet_isolated`: bounded, in a child
process), outside any transaction. The use case then, in the session its front opened (it
flushes, never commits):

1. asks the policy (``Action.IMPORT_REGISTRY`` on the district): refused with
   :data:`NOT_ALLOWED`, nothing written;
2. holds the district (:data:`storage.locks.DISTRICT`, PostgreSQL; on SQLite the writer lock of
   :mod:`storage.db`), the lock creating an association takes too, so an import and an admin
   adding an association by hand take turns and neither creates a twin of the other's;
3. checks the whole sheet and creates or updates the associations, all or nothing
   (:func:`storage.importer.import_registry`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from core.policy import Action, Actor, allowed, district_target
from storage import locks
from storage.db import AsyncSession
from storage.import_sheet import ImportResult, ParsedSheet
from storage.importer import import_registry
from storage.locks import lock_pair
from storage.models import District

__all__ = ["NOT_ALLOWED", "Imported", "Outcome", "import_sheet"]

#: The refusal's catalog key.
NOT_ALLOWED = "not_allowed"


class Outcome(enum.StrEnum):
    """What became of the import."""

    DONE = "done"  # ``result`` holds what was created and updated
    INVALID = "invalid"  # the sheet has problems (``result.errors``): nothing imported
    REFUSED = "refused"  # the actor may not import into the district


@dataclass(frozen=True)
class Imported:
    """The use case's answer; ``result`` is None when refused."""

    outcome: Outcome
    result: ImportResult | None = None
    key: str | None = None


async def import_sheet(
    session: AsyncSession,
    actor: Actor,
    district: District,
    sheet: ParsedSheet,
    annex: str | None,
    today: date,
) -> Imported:
    """Import ``sheet`` into ``district``'s registry when ``actor`` may (see the module)."""
    if not allowed(actor, Action.IMPORT_REGISTRY, district_target(district.id)):
        return Imported(Outcome.REFUSED, key=NOT_ALLOWED)
    await lock_pair(session, locks.DISTRICT, district.id)
    result = await import_registry(session, district, annex, sheet, today)
    return Imported(Outcome.DONE if result.ok else Outcome.INVALID, result)
