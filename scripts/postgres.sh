#!/usr/bin/env bash
# A private PostgreSQL for this checkout, used when DATABASE_URL is not set.
#
#   scripts/postgres.sh start       start it (initialising it on first use); prints nothing else
#   scripts/postgres.sh url [DB] [owner|actions|relay]
#                                   print the SQLAlchemy URL of database DB (default: crm) for that login
#                                   (default: owner); run start first: the port is chosen when the server starts
#   scripts/postgres.sh stop        stop it
#   scripts/postgres.sh status
#
# Data lives in .local/pg (ignored by git). The server listens on 127.0.0.1 (port in .local/pg/port) and
# on a socket in .local/pg. Logins: the superuser "postgres" (local trust; setup only); "crm", a plain login
# with no SUPERUSER and no BYPASSRLS, which owns the databases "crm" (demo), "crm_test" (tests) and their
# tables and runs the migrations (the schema owner); "crm_actions_login" and "crm_relay_login", members of the
# group roles crm_actions and crm_relay that migration 0004 grants rights to (created here too, so the
# migration finds them and "crm" needs no CREATEROLE). This server has no TLS: scripts/database.sh exports
# DB_SSLMODE=disable with its URLs.
# PostgreSQL binaries are installed from Debian when missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PGDIR="$ROOT/.local/pg"
DATA="$PGDIR/data"
PORT_FILE="$PGDIR/port"
# The port: CRM_PG_PORT, else the one this checkout's server used before, else 54329; a port another server
# holds is skipped when starting (two checkouts on one machine each get their own).
PORT="${CRM_PG_PORT:-$(cat "$PORT_FILE" 2>/dev/null || echo 54329)}"
APP_ROLE=crm
APP_PASSWORD=crm
# Group role -> its local login (password = login name; the server listens on 127.0.0.1 only).
ACTIONS_LOGIN=crm_actions_login
RELAY_LOGIN=crm_relay_login

find_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; return 0; fi
  return 1
}

ensure_binaries() {
  if ! BIN="$(find_bindir)"; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "postgres.sh: installing PostgreSQL from Debian packages" >&2
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
      BIN="$(find_bindir)"
    else
      echo "postgres.sh: PostgreSQL server binaries not found; install them (apt-get install postgresql) or set DATABASE_URL" >&2
      exit 1
    fi
  fi
}

# Run a command as the owner of the data directory (postgres refuses to run as root).
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# The server runs as postgres: it must be able to pass through every folder above its data (a checkout under a
# private mktemp folder is mode 700). Grants passage only (o+x), never reading, from the root down, so only the
# folders that really block are changed.
grant_passage_to_postgres() {
  local dir path="" IFS=/
  for dir in ${PGDIR#/}; do
    path="$path/$dir"
    if ! runuser -u postgres -- test -x "$path"; then
      echo "postgres.sh: letting the postgres user pass through $path (chmod o+x)" >&2
      chmod o+x "$path"
    fi
  done
}

psql_super() { as_owner "$BIN/psql" -h "$PGDIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

is_running() { [ -n "${BIN:-}" ] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

start() {
  ensure_binaries
  mkdir -p "$PGDIR"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PGDIR" --shell /bin/sh postgres
    chown postgres "$PGDIR"
    grant_passage_to_postgres
  fi
  if [ ! -f "$DATA/PG_VERSION" ]; then
    as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$PGDIR/initdb.log" 2>&1 \
      || as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 >"$PGDIR/initdb.log" 2>&1
  fi
  if ! is_running; then
    while (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT + 1)); done
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$PGDIR/server.log" -w -t 60 \
      -o "-p $PORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null
  fi
  echo "$PORT" >"$PORT_FILE"
  psql_super <<SQL
SET client_min_messages = warning;
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$APP_ROLE') THEN
    CREATE ROLE $APP_ROLE LOGIN PASSWORD '$APP_PASSWORD' NOSUPERUSER NOBYPASSRLS CREATEDB;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'crm_actions') THEN
    CREATE ROLE crm_actions NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'crm_relay') THEN
    CREATE ROLE crm_relay NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$ACTIONS_LOGIN') THEN
    CREATE ROLE $ACTIONS_LOGIN LOGIN PASSWORD '$ACTIONS_LOGIN' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$RELAY_LOGIN') THEN
    CREATE ROLE $RELAY_LOGIN LOGIN PASSWORD '$RELAY_LOGIN' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END \$\$;
GRANT crm_actions TO $ACTIONS_LOGIN;
GRANT crm_relay TO $RELAY_LOGIN;
SQL
  local db
  for db in crm crm_test crm_bench; do
    if [ -z "$(psql_super -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
      psql_super -c "CREATE DATABASE $db OWNER $APP_ROLE"
    fi
  done
}

case "${1:-}" in
  start) start ;;
  url)
    case "${3:-owner}" in
      owner) login="$APP_ROLE:$APP_PASSWORD" ;;
      actions) login="$ACTIONS_LOGIN:$ACTIONS_LOGIN" ;;
      relay) login="$RELAY_LOGIN:$RELAY_LOGIN" ;;
      *) echo "postgres.sh: unknown login $3 (owner, actions or relay)" >&2; exit 2 ;;
    esac
    echo "postgresql+pg8000://$login@127.0.0.1:$PORT/${2:-crm}" ;;
  stop) ensure_binaries; is_running && as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null; true ;;
  status) ensure_binaries; if is_running; then echo "running on 127.0.0.1:$PORT ($DATA)"; else echo "stopped"; fi ;;
  *) echo "usage: scripts/postgres.sh start|url [DB] [owner|actions|relay]|stop|status" >&2; exit 2 ;;
esac
