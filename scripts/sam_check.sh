#!/usr/bin/env bash
# `sam validate --lint` and `sam build` (no Docker). SAM CLI lives in its own venv (.venv-sam): it pins
# a boto3 that conflicts with moto's.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" AWS_REGION="${AWS_REGION:-us-east-1}"

if [ ! -x .venv-sam/bin/sam ]; then
  echo "sam_check: installing AWS SAM CLI into .venv-sam" >&2
  "$(ls .venv/bin/python >/dev/null 2>&1 && readlink -f .venv/bin/python || command -v python3)" -m venv .venv-sam
  .venv-sam/bin/python -m pip install -qq --upgrade pip
  .venv-sam/bin/python -m pip install -qq aws-sam-cli==1.170.0
fi
SAM=.venv-sam/bin/sam

runtime="$(sed -n 's/^ *Runtime: *\(python3\.[0-9]*\).*/\1/p' template.yaml | head -1)"
# sam build needs an executable pythonX.Y for the template's runtime; with pyenv, expose all its versions.
if command -v pyenv >/dev/null 2>&1; then
  PYENV_VERSION="$(pyenv versions --bare | grep -E '^3\.[0-9]+\.[0-9]+$' | sort -V -r | tr '\n' ':' | sed 's/:$//')"
  export PYENV_VERSION
fi

"$SAM" validate --lint --template template.yaml

template=template.yaml
if ! "$runtime" -c 'pass' >/dev/null 2>&1; then
  fallback="python$(.venv/bin/python -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
  echo "sam_check: no $runtime on this machine; checking the build with $fallback instead" >&2
  template=.aws-sam/template-build-check.yaml
  mkdir -p .aws-sam
  sed "s/$runtime/$fallback/g" template.yaml > "$template"
fi
"$SAM" build --template "$template" --build-dir .aws-sam/build --parallel >/tmp/sam-build.log 2>&1 \
  || { cat /tmp/sam-build.log >&2; exit 1; }
test -f .aws-sam/build/CrmCoreLayer/python/crm_core/runtime/handler.py
echo "sam_check: validate --lint and build passed ($(ls .aws-sam/build | wc -l) artifacts)"
