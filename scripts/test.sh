#!/usr/bin/env bash
# The test command: installs what it needs, then lint, format check, types, the unit tests, the integration
# tests against real PostgreSQL and moto, the SAM template checks, and every function run by `sam local`
# (scripts/sam_local.sh). SKIP_SAM=1 skips both SAM steps, SKIP_SAM_LOCAL=1 only the last. Extra arguments go
# to pytest.
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
# pytest exits with 5 when it collected no test: that is a failure here, never a silent pass.
run_pytest() {
  local status=0
  .venv/bin/pytest "$@" || status=$?
  if [ "$status" = 5 ]; then
    echo "pytest collected no tests (pytest $*)" >&2
  fi
  return "$status"
}
# Extra arguments that name test paths make one run of exactly those; other extra arguments (-q, -x, -n 2, ...)
# go to both runs: first the unit tests (pure, sockets disabled), then everything else (PostgreSQL and moto).
paths=0
for arg in "$@"; do
  case "$arg" in -*) ;; *) if [ -e "${arg%%::*}" ]; then paths=1; fi ;; esac
done
if [ "$paths" = 1 ]; then
  echo "== pytest $*"
  run_pytest "$@"
else
  echo "== pytest: unit (tests/unit)"
  run_pytest tests/unit "$@"
  echo "== pytest: integration (tests/integration and anything else under tests/)"
  run_pytest tests --ignore=tests/unit "$@"
fi
if [ "${SKIP_SAM:-0}" != 1 ]; then
  echo "== sam"
  scripts/sam_check.sh
  echo "== asl-validator (every statemachines/*.asl.json; scripts/asl_check.sh)"
  scripts/asl_check.sh
  if [ "${SKIP_SAM_LOCAL:-0}" != 1 ]; then
    echo "== sam local (every function in Docker; SKIP_SAM_LOCAL=1 skips it)"
    SAM_LOCAL_FROM_BUILD=.aws-sam/build scripts/sam_local.sh
  fi
fi
