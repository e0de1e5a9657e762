"""Benchmark: hostile registry imports sent to a running bot while another user asks /help.

Each case runs in a fresh process (so its peak memory is its own): the real application polling
the local Bot API stand-in (tests/harness.py), a district admin who sends the file, and another
admin who sends /help again and again until the import is answered. Cases, all built here:

* ``idle``          — no import: the baseline for memory and for the /help latency;
* ``bomb``          — a ~3.5 MB .xlsx whose sheet XML expands to 1.1 GB;
* ``rows 200000``   — an annex 1-1 sheet of 200 000 associations (~8 MB);
* ``file 20 MB``    — a valid sheet padded with 20 MB of media (the most a bot may download);
* ``rows 5000``     — a legitimate registry at the row limit, imported for real.

Reported per case: the process's peak resident memory (``VmHWM``: the bot plus the stand-in,
which holds the uploaded file) against the idle case measured in the same run, the peak of the
parse's child process (``getrusage(RUSAGE_CHILDREN)``), and the other user's /help latency
(p95) against the idle p95. Target from the issue: the bot's peak under 300 MB.
Run::

    .venv/bin/python benchmarks/imports.py
    .venv/bin/python benchmarks/imports.py --only idle bomb
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.harness import Kexie, seeded
from tests.hostile_sheets import many_rows, padded, zip_bomb
from tests.standin import FakeUser, StandIn

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TARGET_MB = 300
MIB = 1024 * 1024

BUILDERS: dict[str, Callable[[Path], Path]] = {
    "bomb": lambda d: zip_bomb(d / "bomb.xlsx", 1_100_000_000),
    "rows 200000": lambda d: many_rows(d / "rows200000.xlsx", 200_000),
    "file 20 MB": lambda d: padded(d / "file20mb.xlsx", 20 * MIB - 64 * 1024),
    "rows 5000": lambda d: many_rows(d / "rows5000.xlsx", 5_000),
}
CASES = ["idle", *BUILDERS]


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def _help(user: FakeUser) -> float:
    started = time.perf_counter()
    await user.send("/help")
    await user.expect_any("/export", timeout=600)
    return time.perf_counter() - started


def _p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


async def _case(name: str, root: Path, file: Path | None) -> dict[str, Any]:
    async with StandIn() as standin:
        kexie = await seeded(Kexie(standin, root / name.replace(" ", "_")))
        await kexie.start()
        try:
            admin = await kexie.member(9001, "district_admin", district="锦江区")
            other = await kexie.member(9002, "district_admin", district="青羊区")
            for _ in range(3):
                await _help(other)  # warm: every handler and query path loaded once
            idle_kb = _status_kb("VmRSS")
            latencies: list[float] = []
            answer, seconds = "", 0.0
            if file is None:
                latencies = [await _help(other) for _ in range(30)]
            else:
                data = file.read_bytes()
                started = time.perf_counter()
                await admin.send_document(data, file.name, XLSX, file_size=len(data))
                del data
                reply = asyncio.ensure_future(admin.expect(timeout=900))
                while not reply.done():
                    latencies.append(await _help(other))
                answer = (await reply).text.splitlines()[0][:60]
                seconds = time.perf_counter() - started
            return {
                "name": name,
                "start_mb": idle_kb / 1024,
                "peak_mb": _status_kb("VmHWM") / 1024,
                "after_mb": _status_kb("VmRSS") / 1024,
                "child_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                "p95_ms": _p95(latencies) * 1000,
                "helps": len(latencies),
                "seconds": seconds,
                "answer": answer,
            }
        finally:
            await kexie.stop()
            await kexie.db.dispose()


def _child(name: str, root: str, file: str | None, queue: Any) -> None:
    queue.put(asyncio.run(_case(name, Path(root), Path(file) if file else None)))


def measure(name: str, root: Path, file: Path | None) -> dict[str, Any]:
    """Run one case in a fresh process; return its memory and latency figures."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(name, str(root), str(file) if file else None, queue))
    proc.start()
    result: dict[str, Any] = queue.get()
    proc.join()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=CASES)
    args = parser.parse_args()
    wanted = args.only or CASES
    if "idle" not in wanted:
        wanted = ["idle", *wanted]  # every ratio is against this run's idle case
    root = Path(tempfile.mkdtemp(prefix="kexie-bench-imports-"))
    try:
        files: dict[str, Path] = {}
        for name in wanted:
            if name in BUILDERS:
                started = time.perf_counter()
                files[name] = path = BUILDERS[name](root)
                print(
                    f"built {name}: {path.stat().st_size / MIB:.1f} MB "
                    f"in {time.perf_counter() - started:.1f} s"
                )
        results = {name: measure(name, root, files.get(name)) for name in wanted}
        idle = results["idle"]
        print(
            f"\n{'case':12} {'bot peak':>9} {'×idle':>6} {'after':>7} {'child':>7} "
            f"{'/help p95':>10} {'×idle':>6} {'n':>4} {'took':>7}  answer"
        )
        for name, r in results.items():
            print(
                f"{name:12} {r['peak_mb']:7.0f}MB {r['peak_mb'] / idle['peak_mb']:6.2f} "
                f"{r['after_mb']:5.0f}MB {r['child_mb']:5.0f}MB "
                f"{r['p95_ms']:8.0f}ms {r['p95_ms'] / max(idle['p95_ms'], 1e-3):6.1f} "
                f"{r['helps']:4} {r['seconds']:6.1f}s  {r['answer']}"
            )
        worst = max(r["peak_mb"] for r in results.values())
        print(
            f"\nbot peak RSS, worst case: {worst:.0f} MB (target < {TARGET_MB} MB: "
            f"{'met' if worst < TARGET_MB else 'NOT met'})"
        )
        (root / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1))
        return 0 if worst < TARGET_MB else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
