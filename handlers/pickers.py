"""Pickers other flows borrow: an association or a district chosen from buttons, ``新建科协``,
and the one refusal that reveals nothing. Used by /org, /district, /invite, /members, /status.

A picker's buttons carry the id of what is picked in the codec its flow gives; the flow parses
it and asks :func:`pressed_org` / :func:`pressed_district` whether the presser may act on it now.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.callbacks import Codec, Id
from core.enums import OrgKind
from core.policy import Action, allowed, district_target, org_target
from core.short_names import cut_middle, shared_affixes, text_width
from handlers.common import Turn
from storage.models import District, Organisation
from storage.registry import load_organisation

MAX_ORG_BUTTONS = 50
# A phone shows about 20 CJK characters (40 half-width units) across a message; each button in a
# row loses a little to its padding. Per button, in rows of two or three (in half-width units):
BUTTON_WIDTH = {2: 18, 3: 10}
# One button alone on its row: what a phone shows of it before the client cuts the end off.
ORG_BUTTON_WIDTH = 36
THEN_CARD, THEN_INVITE = "o", "i"  # what follows creating an association
KIND_CODES = {"e": OrgKind.ENTERPRISE, "z": OrgKind.ZONE}


@dataclass(frozen=True)
class NewOrg:
    """新建科协 in ``district``; ``then`` says what follows (the card, or the invite flow)."""

    district: int
    then: str


#: ``org:new:<district>:<o|i>`` — handled by ``handlers.org.ask_new_kind``.
ORG_NEW = Codec("org:new:{district:id}:{then:o|i}", NewOrg)


def refuse(turn: Turn) -> None:
    """One sentence that reveals nothing: not whether the id exists, nor whose it is."""
    if turn.is_button:
        turn.notice(turn.t("reg_denied"), alert=True)
    else:
        turn.reply(turn.t("reg_denied"))


def kind_label(turn: Turn, kind: str) -> str:
    """企业科协 / 产业功能区科协."""
    return turn.label(f"kind_{kind}")


def org_buttons(orgs: list[Organisation], codec: Codec[Id]) -> list[list[tuple[str, str]]]:
    """One button per association (``codec`` carries its id), capped to keep the message short.

    A phone cuts a long label at its end, where association names differ (成都市锦江区…科协): a
    name too long for the button loses the place every button shares at its start and is then
    cut in the middle (core/short_names.py), so every button reads differently. A name that fits
    stays whole, as its owners write it."""
    shown = orgs[:MAX_ORG_BUTTONS]
    prefix, _suffix = shared_affixes([org.name for org in shown])
    return [[(_org_label(org.name, prefix), codec.pack(id=org.id))] for org in shown]


def _org_label(name: str, prefix: int) -> str:
    if text_width(name) <= ORG_BUTTON_WIDTH:
        return name
    return cut_middle(name[prefix:], ORG_BUTTON_WIDTH)


def district_buttons(districts: list[District], codec: Codec[Id]) -> list[list[tuple[str, str]]]:
    """Districts three to a row, two, or one alone when its name would not fit beside others
    (``codec`` carries the district id), in their order: a name is never cut on a phone."""
    rows: list[list[District]] = []
    for district in districts:
        row = rows[-1] + [district] if rows else []
        if row and len(row) in BUTTON_WIDTH and _fits(row):
            rows[-1] = row
        else:
            rows.append([district])
    return [[(d.name, codec.pack(id=d.id)) for d in row] for row in rows]


def _fits(row: list[District]) -> bool:
    return max(text_width(d.name) for d in row) <= BUTTON_WIDTH[len(row)]


def new_org_buttons(
    turn: Turn, districts: list[District], then: str
) -> list[list[tuple[str, str]]]:
    """``新建科协`` for each district the actor may create associations in (at most three)."""
    if not districts or len(districts) > 3:
        return []
    if len(districts) == 1:
        return [[(turn.label("btn_org_new"), ORG_NEW.pack(NewOrg(districts[0].id, then)))]]
    return [
        [(turn.label("btn_org_new_in", district=d.name), ORG_NEW.pack(NewOrg(d.id, then)))]
        for d in districts
    ]


async def pressed_org(turn: Turn, org_id: int, action: Action) -> Organisation | None:
    """The association ``org_id`` from a pressed button, if the presser may do ``action`` to it
    now; otherwise refuse (the same way for a missing id and a forbidden one)."""
    org = await load_organisation(turn.session, org_id)
    if (
        org is None
        or not org.active
        or not allowed(turn.actor, action, org_target(org.id, org.district_id))
    ):
        refuse(turn)
        return None
    return org


async def pressed_district(turn: Turn, district_id: int, action: Action) -> District | None:
    """The district ``district_id`` from a pressed button, if the presser may do ``action``."""
    district = await turn.session.get(District, district_id)
    if district is None or not allowed(turn.actor, action, district_target(district.id)):
        refuse(turn)
        return None
    return district
