# shellcheck shell=bash
# Sourced by scripts/test.sh: start a private PostgreSQL cluster on loopback for the tests and
# export KEXIE_TEST_POSTGRES_URL. Installs Debian's postgresql when missing (needs root).
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pg_bin" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing postgresql (Debian package) for the tests" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || return 1
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  fi
fi
[ -n "$pg_bin" ] || return 1
pg_dir=$(mktemp -d /tmp/kexie-pg.XXXXXX)
pg_port=$(( 20000 + RANDOM % 20000 ))
pg_user=$(id -un)
run_pg() { "$@"; }
if [ "$(id -u)" = 0 ]; then
  # initdb refuses to run as root: the cluster belongs to the postgres system user.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$pg_dir"
  run_pg() { su postgres -s /bin/bash -c "$(printf '%q ' "$@")"; }
  pg_user=postgres
fi
run_pg "$pg_bin/initdb" -D "$pg_dir/data" -U "$pg_user" -A trust -E UTF8 --locale=C.UTF-8 >/dev/null || return 1
# max_connections: the tests run in several pytest-xdist workers at once, each engine pooling up
# to 50 connections (storage/db.py), and the cluster test runs two instances; 100 is too few.
run_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400" \
  start >/dev/null || return 1
export KEXIE_TEST_POSTGRES_URL="postgresql+asyncpg://$pg_user@127.0.0.1:$pg_port/postgres"
pg_cleanup() { run_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1; rm -rf "$pg_dir"; }
echo "PostgreSQL test cluster on port $pg_port" >&2
return 0
