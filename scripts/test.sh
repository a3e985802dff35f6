#!/usr/bin/env bash
# The test command: installs what it needs, then lint, format check, types, the pytest suite against real
# PostgreSQL and moto, and the SAM template checks. Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

scripts/bootstrap.sh
. scripts/database.sh crm_test

# One command per line: `set -e` does not stop inside an && chain.
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
.venv/bin/pytest "$@"
if [ "${SKIP_SAM:-0}" != 1 ]; then
  echo "== sam"
  scripts/sam_check.sh
fi
