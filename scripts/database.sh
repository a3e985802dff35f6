#!/usr/bin/env bash
# Source this with a database name: it exports DATABASE_URL, starting the private PostgreSQL
# (scripts/postgres.sh) when DATABASE_URL is not already set.
#   . scripts/database.sh crm_test
_crm_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${DATABASE_URL:-}" ]; then
  "$_crm_root/scripts/postgres.sh" start
  DATABASE_URL="$("$_crm_root/scripts/postgres.sh" url "${1:-crm}")"
  export DATABASE_URL
fi
unset _crm_root
