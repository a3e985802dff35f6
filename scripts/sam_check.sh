#!/usr/bin/env bash
# `sam validate --lint` and `sam build` (no Docker). SAM CLI lives in its own venv (.venv-sam, see sam_cli.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. scripts/sam_cli.sh
runtime="$SAM_RUNTIME"

fail() {
  echo "sam_check: FAILED: $*" >&2
  if [ -s "$log" ]; then
    echo "---- sam build log ($log) ----" >&2
    cat "$log" >&2
  fi
  exit 1
}

"$SAM" validate --lint --template template.yaml

mkdir -p .aws-sam
log=.aws-sam/build-check.log
: >"$log"
template=template.yaml
if ! "$runtime" -c 'pass' >/dev/null 2>&1; then
  fallback="python$(.venv/bin/python -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
  echo "sam_check: no $runtime on this machine; checking the build with $fallback instead" >&2
  template=.aws-sam/template-build-check.yaml
  sed "s/$runtime/$fallback/g" template.yaml > "$template"
  template_runtime="$fallback"
fi
# The layer's Makefile compiles .pyc files with the runtime's Python (or the fallback's, to match the build).
export LAMBDA_PYTHON="${template_runtime:-$runtime}"
# --base-dir .: CodeUri/ContentUri are relative to the project, not to the (fallback) template's folder.
"$SAM" build --template "$template" --base-dir . --build-dir .aws-sam/build --parallel >"$log" 2>&1 \
  || fail "sam build exited non-zero"
test -f .aws-sam/build/CrmCoreLayer/python/crm_core/runtime/handler.py \
  || fail "the built layer has no crm_core (expected .aws-sam/build/CrmCoreLayer/python/crm_core/runtime/handler.py)"
# Database TLS (verify-full by default) needs the RDS certificate authorities the layer ships beside db/tls.py.
test -s .aws-sam/build/CrmCoreLayer/python/crm_core/db/rds-ca-bundle.pem \
  || fail "the built layer has no RDS CA bundle (crm_core/db/rds-ca-bundle.pem)"
# The layer ships production code only: no development package (seeding, emulated AWS, CLI), no moto, no PDF
# library (reportlab ships with crm.send_quote alone).
for unwanted in crm_dev crm_demo moto reportlab; do
  test ! -e ".aws-sam/build/CrmCoreLayer/python/$unwanted" \
    || fail "the built layer holds $unwanted (.aws-sam/build/CrmCoreLayer/python/$unwanted)"
done
# Every module of the layer has a .pyc for the runtime's Python, never checked against its source.
BUILT_LAYER="$ROOT/.aws-sam/build/CrmCoreLayer/python" .venv/bin/python -m pytest -q -p no:cacheprovider \
  tests/integration/test_built_layer.py >"$log.pyc" 2>&1 || { cat "$log.pyc" >&2; fail "the built layer's .pyc check"; }
test -d .aws-sam/build/SendQuoteFunction/reportlab \
  || fail "crm.send_quote was built without reportlab (functions/send_quote/requirements.txt)"
echo "sam_check: validate --lint and build passed ($(ls .aws-sam/build | wc -l) artifacts)"
