"""The people of an association's person columns (主席, 副主席, … 联系人)."""

from __future__ import annotations

from core.registry_rules import Person
from storage.models import Officer, Organisation


def officers_of(org: Organisation, role: str) -> list[Officer]:
    """The officers of ``org`` holding ``role``, in their order (``org.officers`` loaded)."""
    return sorted((o for o in org.officers if o.role == role), key=lambda o: o.position)


def people_of(org: Organisation, role: str) -> list[Person]:
    """Officers of ``role`` as :class:`Person` values."""
    return [Person(o.name, o.title or "", o.phone or "") for o in officers_of(org, role)]


def replace_officers(org: Organisation, role: str, people: list[Person]) -> None:
    """Make ``people`` the officers of ``role`` (``org.officers`` loaded; flushed by the caller).

    A person column is always given whole (all vice-chairs at once), so replacing is the
    simple and exact operation.
    """
    for officer in officers_of(org, role):
        org.officers.remove(officer)
    for position, person in enumerate(people):
        org.officers.append(
            Officer(
                role=role,
                name=person.name,
                title=person.title or None,
                phone=person.phone,
                position=position,
            )
        )
