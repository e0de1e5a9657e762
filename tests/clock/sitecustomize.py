"""Started with every ``kexie`` subprocess a test runs (its directory is put on ``PYTHONPATH``):
the process lives at the test's clock, so a bot in its own process and the test that drives it
agree on what "today" is. ``KEXIE_TEST_NOW`` (ISO, aware) is the test's moment at the spawn;
time then runs on from there. Without the variable nothing happens."""

import os

_now = os.environ.get("KEXIE_TEST_NOW")
if _now:
    import time_machine

    time_machine.travel(_now, tick=True).start()
