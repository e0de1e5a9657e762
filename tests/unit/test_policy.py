"""The policy function itself: every action × role × scope, and the helpers around it."""

from __future__ import annotations

import pytest

from core.enums import Role
from core.policy import (
    OPERATOR,
    Action,
    Actor,
    Grant,
    Target,
    allowed,
    district_target,
    invite_action,
    may_somewhere,
    org_target,
)

OWN_ORG, OTHER_ORG, FAR_ORG = 1, 2, 3
OWN_DISTRICT, FAR_DISTRICT = 10, 20
ME = 100

ACTORS = {
    "reporter": Actor(ME, (Grant(Role.REPORTER, OWN_ORG, OWN_DISTRICT),)),
    "org_admin": Actor(ME, (Grant(Role.ORG_ADMIN, OWN_ORG, OWN_DISTRICT),)),
    "district_admin": Actor(ME, (Grant(Role.DISTRICT_ADMIN, None, OWN_DISTRICT),)),
    "city_admin": Actor(ME, (Grant(Role.CITY_ADMIN),)),
    "outsider": Actor(0),
}
TARGETS = {
    "own": Target(OWN_DISTRICT, OWN_ORG, author_member_id=ME),
    "other_org": Target(OWN_DISTRICT, OTHER_ORG, author_member_id=999),
    "other_district": Target(FAR_DISTRICT, FAR_ORG, author_member_id=999),
}
ORG_LEVEL = {"own"}
DISTRICT = {"own", "other_org"}
ALL = {"own", "other_org", "other_district"}
NONE: set[str] = set()

# action → role → targets allowed (the matrix, written out cell by cell).
MATRIX: dict[Action, dict[str, set[str]]] = {
    Action.REPORT: {"reporter": ORG_LEVEL, "org_admin": ORG_LEVEL},
    Action.VIEW_REPORTS: {
        "reporter": ORG_LEVEL, "org_admin": ORG_LEVEL, "district_admin": DISTRICT,
        "city_admin": ALL,
    },
    Action.EDIT_REPORT: {"reporter": ORG_LEVEL, "org_admin": ORG_LEVEL},
    Action.MANAGE_REGISTRY: {"org_admin": ORG_LEVEL, "district_admin": DISTRICT, "city_admin": ALL},
    Action.MANAGE_MEMBERS: {"org_admin": ORG_LEVEL, "district_admin": DISTRICT, "city_admin": ALL},
    Action.INVITE_REPORTER: {"org_admin": ORG_LEVEL, "district_admin": DISTRICT, "city_admin": ALL},
    Action.INVITE_ORG_ADMIN: {"district_admin": DISTRICT, "city_admin": ALL},
    Action.CREATE_ORG: {"district_admin": DISTRICT, "city_admin": ALL},
    Action.INVITE_DISTRICT_ADMIN: {"city_admin": ALL},
    Action.DISTRICT_FIGURES: {"district_admin": DISTRICT, "city_admin": ALL},
    Action.VIEW_STATUS: {"district_admin": DISTRICT, "city_admin": ALL},
    Action.EXPORT: {"district_admin": DISTRICT, "city_admin": ALL},
    Action.IMPORT_REGISTRY: {"district_admin": DISTRICT, "city_admin": ALL},
    Action.EXPORT_CITY: {"city_admin": ALL},
    Action.INVITE_CITY_ADMIN: {"city_admin": ALL},
    Action.BACKUP: {"city_admin": ALL},
    # Review (issue 12): the district's admins and the city; an org admin never approves its own.
    Action.REVIEW_REPORT: {"district_admin": DISTRICT, "city_admin": ALL},
    Action.REVIEW_QUEUE: {"district_admin": DISTRICT, "city_admin": ALL},
    Action.CHASE: {"district_admin": DISTRICT, "city_admin": ALL},
}  # fmt: skip


def test_matrix_covers_every_action() -> None:
    assert set(MATRIX) == set(Action)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", list(ACTORS))
@pytest.mark.parametrize("target", list(TARGETS))
def test_every_cell(action: Action, role: str, target: str) -> None:
    expected = target in MATRIX[action].get(role, NONE)
    assert allowed(ACTORS[role], action, TARGETS[target]) is expected


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", list(ACTORS))
def test_may_somewhere_is_the_matrix_row(action: Action, role: str) -> None:
    # What the chat offers a role (handlers/menus.py) is exactly what the matrix allows it
    # anywhere: no command is offered that then refuses, none allowed is left out.
    assert may_somewhere(ACTORS[role], action) is bool(MATRIX[action].get(role, NONE))


def test_a_reporter_changes_only_their_own_reports() -> None:
    reporter = ACTORS["reporter"]
    colleague_report = Target(OWN_DISTRICT, OWN_ORG, author_member_id=999)
    assert not allowed(reporter, Action.EDIT_REPORT, colleague_report)
    assert allowed(ACTORS["org_admin"], Action.EDIT_REPORT, colleague_report)


def test_several_roles_add_up() -> None:
    both = Actor(
        ME,
        (
            Grant(Role.REPORTER, FAR_ORG, FAR_DISTRICT),
            Grant(Role.DISTRICT_ADMIN, None, OWN_DISTRICT),
        ),
    )
    assert allowed(both, Action.REPORT, TARGETS["other_district"])
    assert allowed(both, Action.MANAGE_REGISTRY, TARGETS["other_org"])
    assert not allowed(both, Action.MANAGE_REGISTRY, TARGETS["other_district"])


def test_helpers() -> None:
    assert allowed(OPERATOR, Action.IMPORT_REGISTRY, district_target(FAR_DISTRICT))
    assert org_target(OWN_ORG, OWN_DISTRICT) == Target(district_id=OWN_DISTRICT, org_id=OWN_ORG)
    assert invite_action(Role.REPORTER) == Action.INVITE_REPORTER
    assert invite_action("org_admin") == Action.INVITE_ORG_ADMIN
    assert invite_action(Role.DISTRICT_ADMIN) == Action.INVITE_DISTRICT_ADMIN
    assert invite_action(Role.CITY_ADMIN) == Action.INVITE_CITY_ADMIN
    assert not allowed(ACTORS["district_admin"], invite_action(Role.CITY_ADMIN), TARGETS["own"])
