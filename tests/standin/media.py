"""Images and files: test JPEGs, file ids, the file store, getFile and downloads."""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import mimetypes
import re
from typing import Any

from aiohttp import web

from tests.standin.base import StandInBase
from tests.standin.constants import (
    _TOKEN_RE,
    MAX_DOWNLOAD_SIZE,
    MAX_PHOTO_UPLOAD_SIZE,
    MAX_UPLOAD_SIZE,
)
from tests.standin.types import ApiError, JSONDict, StoredFile, Upload, _bad


@functools.lru_cache(maxsize=64)
def make_jpeg(
    width: int = 640,
    height: int = 480,
    color: tuple[int, int, int] = (43, 108, 176),
    seed: int = 0,
) -> bytes:
    """A small valid JPEG made with Pillow; different ``seed`` values give different bytes."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), color)
    draw = ImageDraw.Draw(img)
    step = max(8, width // 10)
    for k in range(0, width, step):
        shade = (k * 7 + seed * 53) % 256
        draw.rectangle([k, 0, k + step // 2, height], fill=(shade, 255 - shade, (seed * 97) % 256))
    draw.ellipse([width // 4, height // 4, width * 3 // 4, height * 3 // 4], fill=(250, 250, 250))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=80)
    return buf.getvalue()


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\x00")
    return base64.urlsafe_b64encode(h.digest()).decode().rstrip("=")


_FILE_ID_PREFIX = {
    "photo": "AgACAgUAAxkBAA",
    "document": "BQACAgUAAxkBAA",
    "sticker": "CAACAgUAAxkBAA",
    "voice": "AwACAgUAAxkBAA",
}
_FILE_FOLDER = {"photo": "photos", "document": "documents", "sticker": "stickers", "voice": "voice"}
_KIND_TITLE = {"photo": "Photo", "document": "Document", "sticker": "Sticker", "voice": "Voice"}


class FileStore(StandInBase):
    """Files sent by users or uploaded by the bot, as Telegram stores and serves them."""

    def _store_file(
        self,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        file_size: int | None = None,
        width: int | None = None,
        height: int | None = None,
        tag: str = "",
    ) -> StoredFile:
        unique = _digest(kind, tag, data)
        claimed = len(data) if file_size is None else file_size
        file_id = (
            _FILE_ID_PREFIX[kind]
            + unique[:8]
            + _digest("id", kind, tag, data, file_name or "", mime_type or "", str(claimed))[:40]
        )
        existing = self.files.get(file_id)
        if existing is not None:
            return existing
        stored = StoredFile(
            file_id=file_id,
            file_unique_id="AQAD" + unique[:12],
            kind=kind,
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            file_size=claimed,
            width=width,
            height=height,
        )
        self.files[file_id] = stored
        return stored

    def _store_photo(self, data: bytes, *, strict: bool) -> list[StoredFile]:
        """Store a photo as Telegram does: several sizes, the largest being ``data``."""
        from PIL import Image

        try:
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                width, height = img.size
                sizes: list[tuple[bytes, int, int, str]] = []
                for bound, tag in ((90, "s"), (320, "m"), (800, "x")):
                    if max(width, height) > bound:
                        thumb = img.convert("RGB")
                        thumb.thumbnail((bound, bound))
                        buf = io.BytesIO()
                        thumb.save(buf, format="JPEG", quality=70)
                        sizes.append((buf.getvalue(), thumb.width, thumb.height, tag))
        except Exception as exc:
            if strict:
                raise _bad("IMAGE_PROCESS_FAILED") from exc
            width, height, sizes = 100, 100, []
        sizes.append((data, width, height, "y"))
        stored = [
            self._store_file(
                "photo", blob, width=w, height=h, tag=_digest(data) + t, mime_type="image/jpeg"
            )
            for blob, w, h, t in sizes
        ]
        ids = tuple(f.file_id for f in stored)
        for f in stored:
            f.photo_set = ids
        return stored

    @staticmethod
    def _photo_size_json(f: StoredFile) -> JSONDict:
        return {
            "file_id": f.file_id,
            "file_unique_id": f.file_unique_id,
            "width": f.width or 0,
            "height": f.height or 0,
            "file_size": f.file_size,
        }

    @staticmethod
    def _document_json(f: StoredFile) -> JSONDict:
        d: JSONDict = {"file_id": f.file_id, "file_unique_id": f.file_unique_id}
        if f.file_name:
            d["file_name"] = f.file_name
        if f.mime_type:
            d["mime_type"] = f.mime_type
        d["file_size"] = f.file_size
        return d

    def _resolve_media(self, params: JSONDict, value: Any, kind: str) -> list[StoredFile]:
        """Turn an upload / attach:// / file_id into stored file(s) of ``kind``."""
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value[len("attach://") :])
            if value is None:
                raise _bad(f"can't parse InputMedia{_KIND_TITLE[kind]}: media not found")
        if isinstance(value, Upload):
            limit = MAX_PHOTO_UPLOAD_SIZE if kind == "photo" else MAX_UPLOAD_SIZE
            if len(value.data) > limit:
                raise ApiError(413, "Request Entity Too Large")
            if not value.data:
                raise _bad("file must be non-empty")
            if kind == "photo":
                return self._store_photo(value.data, strict=True)
            mime = value.content_type
            if not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(value.filename or "")[0] or mime
            return [self._store_file(kind, value.data, file_name=value.filename, mime_type=mime)]
        if isinstance(value, str) and value:
            if re.match(r"^https?://", value):
                raise _bad("failed to get HTTP URL content")
            stored = self.files.get(value)
            if stored is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            if stored.kind != kind:
                raise _bad(
                    f"can't use file of type {_KIND_TITLE[stored.kind]} as {_KIND_TITLE[kind]}"
                )
            if kind == "photo":
                return [self.files[fid] for fid in stored.photo_set or (stored.file_id,)]
            return [stored]
        raise _bad(f"there is no {kind} in the request")

    def _download(self, rest: str) -> web.StreamResponse:
        token, _, file_path = rest.partition("/")
        stored = self._files_by_path.get(file_path)
        if not _TOKEN_RE.match(token) or stored is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    async def _get_file(self, params: JSONDict) -> JSONDict:
        file_id = params.get("file_id")
        stored = self.files.get(file_id) if isinstance(file_id, str) else None
        if stored is None:
            raise _bad("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise _bad("file is too big")
        if stored.file_path is None:
            self._file_counter += 1
            ext = mimetypes.guess_extension(stored.mime_type or "") or ""
            if stored.file_name and "." in stored.file_name:
                ext = "." + stored.file_name.rsplit(".", 1)[1]
            if ext == ".jpe":
                ext = ".jpg"
            stored.file_path = f"{_FILE_FOLDER[stored.kind]}/file_{self._file_counter}{ext}"
            self._files_by_path[stored.file_path] = stored
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }
