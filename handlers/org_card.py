"""What the /org flow's modules share: its stored steps (:class:`OrgStep`, the states of
``org.mmd``), and the registry card of one association (annex 1-1 / 1-2 entry): every field,
filled or marked missing, with 逐项填写缺失项 and 修改某一项 (handled in ``handlers.org``)."""

from __future__ import annotations

from enum import StrEnum

from core.callbacks import id_codec
from core.registry_rules import fields_for
from core.texts import Raw, listing
from handlers.common import Turn
from handlers.pickers import kind_label
from storage.models import Organisation
from storage.registry import display_value, field_value, missing_fields

FLOW = "org"


class OrgStep(StrEnum):
    """The stored steps of flow ``org`` (the states of ``org.mmd``)."""

    FIELD = "field"  # data: org_id, key, walk
    NEW_NAME = "new_name"  # data: district_id, kind, then


#: ``org:fill:<org>``: walk the missing fields.
ORG_FILL = id_codec("org:fill")
#: ``org:edit:<org>``: one button per field.
ORG_EDIT = id_codec("org:edit")


def show_card(turn: Turn, org: Organisation, *, edit: bool = False) -> None:
    """Queue the registry card with its buttons."""
    buttons: list[list[tuple[str, str]]] = []
    if missing_fields(org):
        buttons.append([(turn.label("btn_org_fill"), ORG_FILL.pack(id=org.id))])
    buttons.append([(turn.label("btn_org_edit"), ORG_EDIT.pack(id=org.id))])
    if edit:
        turn.edit(render_card(turn, org), buttons)
    else:
        turn.reply(render_card(turn, org), buttons)


def render_card(turn: Turn, org: Organisation) -> Raw:
    """Every annex field of the association, filled or marked missing, and what is left."""
    specs = fields_for(org.kind)
    missing = missing_fields(org)
    lines = [
        turn.t(
            "org_card_title",
            name=org.name,
            kind=kind_label(turn, org.kind),
            district=org.district.name,
            filled=len(specs) - len(missing),
            total=len(specs),
        ),
        "",
    ]
    for spec in specs:
        shown = display_value(field_value(org, spec))
        lines.append(
            turn.t(
                "card_line",
                label=turn.label(f"reg_f_{spec.key}"),
                value=shown if shown is not None else turn.label("card_missing"),
            )
        )
    lines.append("")
    if missing:
        labels = listing(turn.lang, (turn.label(f"reg_f_{s.key}") for s in missing))
        lines.append(turn.t("org_card_missing", fields=labels))
    else:
        lines.append(turn.t("org_card_complete"))
    return Raw("\n".join(lines))
