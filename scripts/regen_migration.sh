#!/bin/bash
# Regenerate the single initial migration from storage/models.py (nothing has been released yet).
set -e
cd "$(dirname "$0")/.."
rm -f storage/migrations/versions/0001_initial.py
tmp=$(mktemp -d)
.venv/bin/python - "$tmp" <<'PY'
import sys
from alembic import command
from storage.migrate import alembic_config
url = f"sqlite+aiosqlite:///{sys.argv[1]}/regen.db"
command.revision(alembic_config(url), message="initial schema", autogenerate=True, rev_id="0001")
PY
f=$(ls storage/migrations/versions/0001_*.py)
mv "$f" storage/migrations/versions/0001_initial.py
.venv/bin/ruff format -q storage/migrations/versions/0001_initial.py
.venv/bin/ruff check -q --fix storage/migrations/versions/0001_initial.py || true
rm -rf "$tmp"
echo regenerated
