"""The session type, for the layers above storage that only pass a session through.

Modules outside storage/ and services/ build and run no SQL (import-linter forbids them
``sqlalchemy``); they still name the session in their signatures, and take its type from here.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

__all__ = ["AsyncSession"]
