"""The buttons of /chase (催报), as :mod:`core.callbacks` codecs.

``chase:open:<district>`` picks a district (city admins), ``chase:page:<district>:<n>`` turns
the list's page, ``chase:nudge:<org>`` reminds one
association, ``chase:all:<district>`` asks to remind every quiet one, ``chase:go:<district>``
confirms that and ``chase:no:<district>`` cancels it. Every press is checked again.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.callbacks import Codec, Id, id_codec


@dataclass(frozen=True)
class ChasePage:
    """A page of one district's /chase list."""

    district: int
    page: int


CHASE_OPEN: Codec[Id] = id_codec("chase:open")
CHASE_PAGE = Codec("chase:page:{district:id}:{page:int}", ChasePage)
CHASE_NUDGE: Codec[Id] = id_codec("chase:nudge")
CHASE_ALL: Codec[Id] = id_codec("chase:all")
CHASE_ALL_GO: Codec[Id] = id_codec("chase:go")
CHASE_ALL_NO: Codec[Id] = id_codec("chase:no")
