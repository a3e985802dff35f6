#!/usr/bin/env bash
# The test command: installs what it needs, then lint, format check, types, the pytest suite against real
# PostgreSQL and moto, the SAM template checks, and every function run by `sam local` (scripts/sam_local.sh).
# SKIP_SAM=1 skips both SAM steps, SKIP_SAM_LOCAL=1 only the last. Extra arguments go to pytest.
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
  if [ "${SKIP_SAM_LOCAL:-0}" != 1 ]; then
    echo "== sam local (every function in Docker; SKIP_SAM_LOCAL=1 skips it)"
    SAM_LOCAL_FROM_BUILD=.aws-sam/build scripts/sam_local.sh
  fi
fi
