"""The buttons on the scheduler's messages, as :mod:`core.callbacks` codecs.

The scheduler packs them (``scheduler/render.py``); the handlers that answer them register the
same codecs' patterns, so each format is written once.
"""

from __future__ import annotations

from core.callbacks import Codec, Id, Pressed, constant, id_codec

RESUME_DRAFT: Codec[Id] = Codec("sched:{id:id}:resume", Id)  # a draft's closing reminder
REPORT_PLAN: Codec[Id] = Codec("sched:{id:id}:plan", Id)  # report a planned activity
CANCEL_PLAN: Codec[Id] = id_codec("plan:cancel")  # the planned activity did not take place
MENU_REPORT: Codec[Pressed] = constant("menu:report")
MUTE_NUDGES: Codec[Pressed] = constant("settings:nudges:off")
START_EXPORT: Codec[Pressed] = constant("export:start")
