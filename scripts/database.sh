#!/usr/bin/env bash
# Source this with a database name: it exports the three database URLs, one per role (README "Database roles"):
#   MIGRATION_DATABASE_URL  the schema owner (runs the migrations)
#   DATABASE_URL            the actions' login (member of crm_actions)
#   RELAY_DATABASE_URL      the relay's login (member of crm_relay)
# and DB_SSLMODE=disable (unless set) for a local server, which has no TLS.
#   . scripts/database.sh crm_test
# - Nothing set: starts the private PostgreSQL (scripts/postgres.sh), which has all three logins.
# - DATABASE_URL set alone (CI may give a superuser's): it becomes the migrations' URL, and the actions' and the
#   relay's logins are created from it (crm_dev/database_logins.py; the role needs CREATEROLE).
# - MIGRATION_DATABASE_URL or RELAY_DATABASE_URL set too: all three are taken as given.
_crm_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${DATABASE_URL:-}" ]; then
  "$_crm_root/scripts/postgres.sh" start
  MIGRATION_DATABASE_URL="$("$_crm_root/scripts/postgres.sh" url "${1:-crm}" owner)"
  DATABASE_URL="$("$_crm_root/scripts/postgres.sh" url "${1:-crm}" actions)"
  RELAY_DATABASE_URL="$("$_crm_root/scripts/postgres.sh" url "${1:-crm}" relay)"
  DB_SSLMODE="${DB_SSLMODE:-disable}"
  export MIGRATION_DATABASE_URL DATABASE_URL RELAY_DATABASE_URL DB_SSLMODE
elif [ -z "${MIGRATION_DATABASE_URL:-}" ] && [ -z "${RELAY_DATABASE_URL:-}" ]; then
  _crm_python="$_crm_root/.venv/bin/python"
  [ -x "$_crm_python" ] || _crm_python=python3
  _crm_exports="$(cd "$_crm_root" && "$_crm_python" -m crm_dev.database_logins "$DATABASE_URL")" || return 1 2>/dev/null || exit 1
  eval "$_crm_exports"
  unset _crm_python _crm_exports
fi
unset _crm_root
