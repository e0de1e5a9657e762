"""Benchmark: annex 1-3 with its evidence bundle for 10 000 activities with 3 photos each.

Every measurement runs in a fresh process (so peak memory is that measurement's own) on the same
data, in the same run:

* ``baseline cells``  — a bare openpyxl write-only dump of the same cells (official sheet and
  明细 sheet: plain values, no styles, merges, links or print settings);
* ``baseline zip``    — a bare ``zipfile`` copy of the same evidence files;
* ``workbook``        — our annex 1-3 workbook (official form + 明细, no thumbnails);
* ``export``          — workbook + bundle, no thumbnails (what the target is about);
* ``export+thumbs``   — workbook with thumbnails + bundle (memory target: < 500 MB peak).

Targets (from the issue): within 2× of the bare dump without thumbnails — reported as the
workbook against the bare cell dump, and the whole export against bare cells + bare zip (copying
the photos is the same disk work either way); peak memory with thumbnails under 500 MB.
Run::

    .venv/bin/python benchmarks/export.py            # 10 000 activities × 3 photos
    .venv/bin/python benchmarks/export.py --activities 1000 --photos 3
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook
from PIL import Image, ImageDraw

from core.rules import format_date, format_datetime
from exports.annex13 import HEADERS, NOTE, SUBHEADER, title, write_annex13
from exports.bundle import write_bundle
from exports.details import HEADERS as DETAIL_HEADERS
from exports.details import TITLE as DETAIL_TITLE
from exports.details import Thumbnailer, on_time_text
from exports.names import plan_entries
from exports.rows import EvidenceFile, PrintedActivity
from storage.evidence import EvidenceStore

YEAR = 2021
TZ_NAME = "Asia/Shanghai"


def make_photos(store: EvidenceStore, count: int, size: tuple[int, int]) -> list[str]:
    """``count`` distinct JPEGs: one drawn image, each copy made unique by trailing bytes (which
    JPEG decoders ignore), so generating 30 000 of them takes seconds."""
    import io

    img = Image.new("RGB", size, (43, 108, 176))
    draw = ImageDraw.Draw(img)
    for k in range(0, size[0], 16):
        draw.rectangle([k, 0, k + 8, size[1]], fill=(k % 256, 255 - k % 256, 90))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    base = buf.getvalue()
    return [store.put(base + f"kexie-bench-{i}".encode()) for i in range(count)]


def make_rows(digests: list[str], activities: int, photos: int) -> list[PrintedActivity]:
    """Deterministic activities in date order, each with ``photos`` photos."""
    start = date(YEAR, 1, 1)
    rows = []
    for i in range(activities):
        day = start + timedelta(days=i * 365 // max(activities, 1))
        rows.append(
            PrintedActivity(
                id=i + 1,
                activity_date=day,
                name=f"第{i + 1}场科技政策解读会",
                content="邀请市科技局专家解读科技企业扶持政策，面向园区企业，现场答疑。",
                role=("主办", "协办", "承办")[i % 3],
                headcount=20 + i % 200,
                outcome="30家企业了解了申报流程，5家企业当场提交了意向。",
                org_name=f"成都第{i % 300}科技有限公司科协",
                org_kind="enterprise" if i % 4 else "zone",
                district_id=1,
                district_name="锦江区",
                submitted_at=datetime(day.year, day.month, day.day, 8, tzinfo=UTC),
                on_time=i % 10 != 0,
                late_days=0 if i % 10 else 2,
                author_name="王芳",
                evidence=tuple(
                    EvidenceFile(digests[i * photos + k], "photo", None, "image/jpeg")
                    for k in range(photos)
                ),
            )
        )
    return rows


# --- the measured tasks (each runs in its own process) ----------------------------------------


def task_baseline_cells(rows: list[PrintedActivity], store: EvidenceStore, out: Path) -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(TZ_NAME)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("附件1-3")
    ws.append(["附件1-3"])
    ws.append([title(YEAR)])
    ws.append(list(HEADERS))
    ws.append([None] * 7 + [SUBHEADER])
    entries = plan_entries(rows)
    for e in entries:
        r = e.row
        ws.append(
            [e.seq, format_date(r.activity_date), r.name, r.content, r.role, r.headcount,
             r.outcome, e.label]
        )  # fmt: skip
    ws.append([NOTE])
    ws2 = wb.create_sheet("明细")
    ws2.append([DETAIL_TITLE])
    ws2.append(list(DETAIL_HEADERS))
    for e in entries:
        r = e.row
        ws2.append(
            [e.seq, r.name, r.org_name, r.org_kind, r.district_name,
             format_datetime(r.submitted_at, tz) if r.submitted_at else "", on_time_text(e),
             len(r.evidence), r.author_name]
        )  # fmt: skip
    wb.save(out / "baseline.xlsx")


def task_baseline_zip(rows: list[PrintedActivity], store: EvidenceStore, out: Path) -> None:
    with zipfile.ZipFile(out / "baseline.zip", "w") as zf:
        for e in plan_entries(rows):
            for k, f in enumerate(e.row.evidence, start=1):
                zf.write(store.path_for(f.sha256), f"{e.folder}/{k:02d}.jpg")


def _workbook(rows: list[PrintedActivity], store: EvidenceStore, out: Path, thumbs: bool) -> Path:
    from zoneinfo import ZoneInfo

    path = out / "附件1-3.xlsx"
    scratch = out / "thumbs"
    write_annex13(
        path,
        YEAR,
        [("附件1-3", "锦江区科协", plan_entries(rows))],
        thumbnails=Thumbnailer(store, scratch) if thumbs else None,
        tz=ZoneInfo(TZ_NAME),
    )
    shutil.rmtree(scratch, ignore_errors=True)
    return path


def task_workbook(rows: list[PrintedActivity], store: EvidenceStore, out: Path) -> None:
    _workbook(rows, store, out, thumbs=False)


def task_export(rows: list[PrintedActivity], store: EvidenceStore, out: Path) -> None:
    path = _workbook(rows, store, out, thumbs=False)
    write_bundle(out, "bundle", [path], plan_entries(rows), store)


def task_export_thumbs(rows: list[PrintedActivity], store: EvidenceStore, out: Path) -> None:
    path = _workbook(rows, store, out, thumbs=True)
    write_bundle(out, "bundle", [path], plan_entries(rows), store)


TASKS: dict[str, Callable[[list[PrintedActivity], EvidenceStore, Path], None]] = {
    "baseline cells": task_baseline_cells,
    "baseline zip": task_baseline_zip,
    "workbook": task_workbook,
    "export": task_export,
    "export+thumbs": task_export_thumbs,
}


def _child(name: str, root: str, activities: int, photos: int, queue: Any) -> None:
    store = EvidenceStore(Path(root) / "evidence")
    digests = json.loads((Path(root) / "digests.json").read_text())
    rows = make_rows(digests, activities, photos)
    out = Path(root) / name.replace(" ", "_").replace("+", "_")
    out.mkdir()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    TASKS[name](rows, store, out)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    queue.put({"name": name, "seconds": seconds, "peak_mb": peak / 1024,
               "start_mb": before / 1024, "output_mb": size / 1e6})  # fmt: skip
    shutil.rmtree(out)


def measure(name: str, root: Path, activities: int, photos: int) -> dict[str, Any]:
    """Run one task in a fresh process; return its seconds and peak resident memory."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(name, str(root), activities, photos, queue))
    proc.start()
    result: dict[str, Any] = queue.get()
    proc.join()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=10_000)
    parser.add_argument("--photos", type=int, default=3)
    parser.add_argument("--photo-px", type=int, nargs=2, default=(640, 480))
    parser.add_argument("--only", nargs="*", choices=list(TASKS))
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kexie-bench-"))
    try:
        started = time.perf_counter()
        digests = make_photos(
            EvidenceStore(root / "evidence"), args.activities * args.photos, tuple(args.photo_px)
        )
        (root / "digests.json").write_text(json.dumps(digests))
        photo_mb = (
            sum(EvidenceStore(root / "evidence").path_for(d).stat().st_size for d in digests) / 1e6
        )
        print(
            f"{args.activities} activities × {args.photos} photos "
            f"({photo_mb:.0f} MB of photos, made in {time.perf_counter() - started:.1f} s)"
        )
        results = {}
        for name in args.only or TASKS:
            results[name] = r = measure(name, root, args.activities, args.photos)
            print(
                f"  {name:15} {r['seconds']:7.2f} s   peak {r['peak_mb']:6.0f} MB "
                f"(idle {r['start_mb']:.0f} MB)   output {r['output_mb']:.0f} MB"
            )
        if {"baseline cells", "workbook"} <= results.keys():
            ratio = results["workbook"]["seconds"] / results["baseline cells"]["seconds"]
            print(f"workbook / bare cell dump: {ratio:.2f}×  (target ≤ 2×)")
        if {"baseline cells", "baseline zip", "export"} <= results.keys():
            bare = results["baseline cells"]["seconds"] + results["baseline zip"]["seconds"]
            ratio = results["export"]["seconds"] / bare
            print(f"export (workbook + bundle) / (bare cells + bare zip): {ratio:.2f}×")
            ratio = results["export"]["seconds"] / results["baseline cells"]["seconds"]
            print(f"export (workbook + bundle) / bare cell dump: {ratio:.2f}×")
        if "export+thumbs" in results:
            peak = results["export+thumbs"]["peak_mb"]
            print(f"peak memory with thumbnails: {peak:.0f} MB  (target < 500 MB)")
        print(json.dumps(results, ensure_ascii=False))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
