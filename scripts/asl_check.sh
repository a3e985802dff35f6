#!/usr/bin/env bash
# Validate every statemachines/*.asl.json with asl-validator (npm), the ASL schema AND the state graph (a dangling
# Next, a state no path ends from, a bad Type or field). `sam validate --lint` does not look inside a
# DefinitionUri file (see statemachines/README.md). The validator is installed with `npm ci` from
# scripts/asl-validator/package-lock.json (asl-validator 4.0.0 and its dependencies, pinned with their hashes)
# into .local/node, once; it needs Node.js 18+ and npm.
# Before validating, each ${Placeholder} of DefinitionSubstitutions becomes a Lambda function ARN, as CloudFormation
# would substitute it, so the validator's ARN checks see what Step Functions will see.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

NODE_DIR=.local/node
LOCK=scripts/asl-validator/package-lock.json
VALIDATOR="$NODE_DIR/node_modules/.bin/asl-validator"

command -v npm >/dev/null 2>&1 || { echo "asl_check: npm (Node.js 18+) is required" >&2; exit 1; }
if [ ! -x "$VALIDATOR" ] || ! cmp -s "$LOCK" "$NODE_DIR/package-lock.json"; then
  mkdir -p "$NODE_DIR"
  cp scripts/asl-validator/package.json "$LOCK" "$NODE_DIR/"
  npm ci --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error >/dev/null
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
shopt -s nullglob
definitions=(statemachines/*.asl.json)
if [ "${#definitions[@]}" = 0 ]; then
  echo "asl_check: no statemachines/*.asl.json" >&2
  exit 1
fi
status=0
for definition in "${definitions[@]}"; do
  substituted="$work/$(basename "$definition")"
  sed -E 's/\$\{([A-Za-z0-9]+)FunctionArn\}/arn:aws:lambda:us-east-1:123456789012:function:crm-\1/g' \
    "$definition" >"$substituted"
  if grep -q '\${' "$substituted"; then
    echo "asl_check: $definition: a placeholder other than \${<Name>FunctionArn}: $(grep -o '\${[^}]*}' "$substituted" | sort -u | tr '\n' ' ')" >&2
    status=1
    continue
  fi
  if "$VALIDATOR" --json-path "$substituted" >"$work/out" 2>&1; then
    echo "asl_check: $definition: valid"
  else
    echo "asl_check: $definition: INVALID" >&2
    cat "$work/out" >&2
    status=1
  fi
done
exit "$status"
