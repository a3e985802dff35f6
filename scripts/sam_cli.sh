# Source this (from scripts/sam_check.sh and scripts/sam_local.sh): installs the AWS SAM CLI into .venv-sam when
# missing (its own venv: it pins a boto3 that conflicts with moto's), sets SAM to its path and SAM_RUNTIME to the
# template's pythonX.Y, and, with pyenv, exposes every installed Python so `sam build` finds that version.
#   . scripts/sam_cli.sh
_sam_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" AWS_REGION="${AWS_REGION:-us-east-1}"

if [ ! -x "$_sam_root/.venv-sam/bin/sam" ]; then
  echo "sam_cli: installing AWS SAM CLI into .venv-sam" >&2
  _sam_python="$(command -v python3)"
  [ -x "$_sam_root/.venv/bin/python" ] && _sam_python="$(readlink -f "$_sam_root/.venv/bin/python")"
  "$_sam_python" -m venv "$_sam_root/.venv-sam"
  unset _sam_python
  "$_sam_root/.venv-sam/bin/python" -m pip install -qq --upgrade pip
  "$_sam_root/.venv-sam/bin/python" -m pip install -qq aws-sam-cli==1.170.0
fi
SAM="$_sam_root/.venv-sam/bin/sam"
SAM_RUNTIME="$(sed -n 's/^ *Runtime: *\(python3\.[0-9]*\).*/\1/p' "$_sam_root/template.yaml" | head -1)"

# sam build needs an executable pythonX.Y for the template's runtime; with pyenv, expose all its versions.
if command -v pyenv >/dev/null 2>&1; then
  PYENV_VERSION="$(pyenv versions --bare | grep -E '^3\.[0-9]+\.[0-9]+$' | sort -V -r | tr '\n' ':' | sed 's/:$//')"
  export PYENV_VERSION
fi
unset _sam_root
