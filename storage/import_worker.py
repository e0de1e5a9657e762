"""The child process of :func:`storage.importer.read_sheet_isolated`.

``python -m storage.import_worker FILE ANNEX|- YYYY-MM-DD MEMORY_BYTES CPU_SECONDS`` limits its
own address space and CPU time first (before openpyxl is even imported), reads the sheet and
writes the pickled :class:`storage.import_sheet.ParsedSheet` to stdout. Anything that goes wrong
ends the process with a non-zero code, which the parent turns into one sentence.
"""

from __future__ import annotations

import resource
import sys


def main(argv: list[str]) -> int:
    """Run one bounded parse; returns the exit code."""
    path, annex, today, memory, cpu = argv
    resource.setrlimit(resource.RLIMIT_AS, (int(memory), int(memory)))
    resource.setrlimit(resource.RLIMIT_CPU, (int(cpu), int(cpu)))
    import pickle
    from datetime import date
    from pathlib import Path

    from storage.import_sheet import read_sheet

    sheet = read_sheet(Path(path), None if annex == "-" else annex, date.fromisoformat(today))
    sys.stdout.buffer.write(pickle.dumps(sheet, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
