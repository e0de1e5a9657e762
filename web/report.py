"""Console pages: one report, its evidence, and the review decision (being built)."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
