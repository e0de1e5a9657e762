"""Contact sheets of what the test suite photographed: one PNG per folder of ``tests/output``
(charts, printed forms, console pages, role-shaped chat), each image as a thumbnail under its
file name, so a reviewer sees every screen at a glance.

    .venv/bin/python -m tests.contact_sheet [tests/output] [--out DIR]

Writes ``<out>/contact-<folder>.png`` (``out`` defaults to the output folder itself) and prints
one line per sheet. Images are read with Pillow's decompression-bomb limit in force. The console's
phone test draws its per-language, per-scheme sheets with :func:`sheet` too.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

THUMB = (300, 420)  # the cell a thumbnail fits into (portrait: phones and A4 pages)
LABEL = 34  # pixels under each thumbnail for its file name
COLUMNS = 6
MAX_PER_SHEET = 96  # a sheet stays a few megabytes; more images go to -2, -3 …
FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def _label(name: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> str:
    """The file name, cut in the middle when wider than a cell."""
    if font.getlength(name) <= THUMB[0] - 8:
        return name
    while len(name) > 4 and font.getlength(name + "…") > THUMB[0] - 8:
        middle = len(name) // 2
        name = name[: middle - 1] + name[middle + 1 :]
    return name[: len(name) // 2] + "…" + name[len(name) // 2 :]


def sheet(images: list[Path], root: Path, title: str, columns: int = COLUMNS) -> Image.Image:
    """One contact sheet of ``images`` in rows of ``columns`` (names shown relative to
    ``root``)."""
    rows = math.ceil(len(images) / columns)
    head = 48
    width, height = columns * THUMB[0], head + rows * (THUMB[1] + LABEL)
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    small, big = _font(14), _font(26)
    draw.text((10, 10), title, fill="black", font=big)
    for n, path in enumerate(images):
        x, y = (n % columns) * THUMB[0], head + (n // columns) * (THUMB[1] + LABEL)
        with Image.open(path) as image:
            image.thumbnail((THUMB[0] - 10, THUMB[1] - 10))
            thumb = image.convert("RGB")
        canvas.paste(thumb, (x + (THUMB[0] - thumb.width) // 2, y + 5))
        draw.rectangle((x + 4, y + 4, x + THUMB[0] - 5, y + THUMB[1] - 5), outline="#bbbbbb")
        name = str(path.relative_to(root).with_suffix(""))
        draw.text((x + 6, y + THUMB[1] + 4), _label(name, small), fill="black", font=small)
    return canvas


def main() -> None:
    """Write a contact sheet for every folder of the output directory that holds PNGs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", default="tests/output", type=Path)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    root: Path = args.output
    out: Path = args.out or root
    out.mkdir(parents=True, exist_ok=True)
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        images = sorted(folder.rglob("*.png"))
        images = [p for p in images if not p.name.startswith(("contact-", "_sheet-"))]
        for part in range(0, len(images), MAX_PER_SHEET):
            chunk = images[part : part + MAX_PER_SHEET]
            suffix = f"-{part // MAX_PER_SHEET + 1}" if len(images) > MAX_PER_SHEET else ""
            target = out / f"contact-{folder.name}{suffix}.png"
            title = f"{folder.name}: {len(chunk)} of {len(images)} images"
            sheet(chunk, folder, title).save(target, optimize=True)
            print(f"{target}: {len(chunk)} images")


if __name__ == "__main__":
    main()
