#!/usr/bin/env bash
# The demo: installs what it needs, starts PostgreSQL (unless DATABASE_URL is set) and a local AWS emulator,
# migrates, seeds the demo tenant and runs the actions through their Lambda handlers.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/bootstrap.sh
. scripts/database.sh crm
exec .venv/bin/python -m crm_demo "$@"
