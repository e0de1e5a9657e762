#!/usr/bin/env bash
# Run every check. PostgreSQL is installed (Debian package) and started on a throwaway cluster
# when possible, so the same tests also run against it; without root it is skipped with a notice.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
"$VENV/bin/ruff" check .
"$VENV/bin/mypy"
# The layers (core → storage → exports, scheduler → handlers → bot); contracts in pyproject.toml.
"$VENV/bin/lint-imports"

pg_cleanup() { :; }
if [ -z "${KEXIE_TEST_POSTGRES_URL:-}" ]; then
  if source scripts/postgres.sh; then
    trap pg_cleanup EXIT
  else
    echo "notice: PostgreSQL not available; the PostgreSQL variants of the tests are skipped" >&2
  fi
fi
# LibreOffice (Debian package, as root) renders the annexes to PDF in one test; skipped without it.
bash scripts/libreoffice.sh >/dev/null || true
# A CJK font (Debian package, as root) for the charts' font test; skipped without it.
bash scripts/fonts.sh >/dev/null || true
# nginx (Debian package, as root) balances two webhook instances in one test; skipped without it.
bash scripts/nginx.sh >/dev/null || true
# Chromium and its driver (Debian packages, as root) for the console's real-browser tests; once
# installed the browser tests must run (KEXIE_TEST_REQUIRE_BROWSER), never silently skip.
if bash scripts/chromium.sh >/dev/null; then
  export KEXIE_TEST_REQUIRE_BROWSER=1
fi
# In parallel (pytest-xdist): most end-to-end tests wait on loopback HTTP and timers rather than
# compute, so more workers than cores pay off (6 on 2 cores: 78 e2e tests took 352 s in one
# process, 212 s with 2 workers, 154 s with 4; the whole suite 604 s with 4 workers, 505 s with 6
# and the slow files first, tests/conftest.py, at 133 % CPU). --dist loadfile keeps a file's
# tests (and its module-scoped fixtures) on one worker. KEXIE_TEST_WORKERS=0 runs everything in this process;
# an -n or --dist given to this script (passed on to pytest) wins over these.
"$VENV/bin/pytest" -q -n "${KEXIE_TEST_WORKERS:-6}" --dist loadfile "$@"
