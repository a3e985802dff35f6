"""Tracing: off outside Lambda (no X-Ray SDK import), and in Lambda a Tracer that patches botocore alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from crm_core.runtime.observability import ActionTracer, tracing_enabled

LAYER = Path(__file__).resolve().parents[3] / "layers" / "crm_core"


def test_tracing_follows_powertools_rule() -> None:
    assert not tracing_enabled({})
    assert tracing_enabled({"LAMBDA_TASK_ROOT": "/var/task"})
    assert not tracing_enabled({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"})
    assert not tracing_enabled({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"})


def test_disabled_tracer_returns_functions_unchanged() -> None:
    tracer = ActionTracer(enabled=False)

    def handler(event: object, context: object) -> dict[str, object]:
        return {}

    assert tracer.capture_lambda_handler(handler) is handler
    assert tracer.capture_lambda_handler(capture_response=False)(handler) is handler
    assert tracer.capture_method(capture_response=False)(handler) is handler


def _in_fresh_python(env: dict[str, str]) -> dict[str, object]:
    code = (
        "import json, sys\n"
        "from crm_core.runtime.observability import tracer\n"
        "patched = []\n"
        "if tracer.enabled:\n"
        "    from aws_xray_sdk.core import patcher\n"
        "    patched = sorted(patcher._PATCHED_MODULES)\n"
        "print(json.dumps({'xray': 'aws_xray_sdk' in sys.modules, 'patched': patched}))\n"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("POWERTOOLS_TRACE_DISABLED", "LAMBDA_TASK_ROOT")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "PYTHONPATH": str(LAYER), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_tracing_off_never_imports_the_xray_sdk() -> None:
    assert _in_fresh_python({"POWERTOOLS_TRACE_DISABLED": "true"}) == {"xray": False, "patched": []}


def test_tracing_on_patches_botocore_only() -> None:
    found = _in_fresh_python({"LAMBDA_TASK_ROOT": "/var/task", "AWS_LAMBDA_FUNCTION_NAME": "t"})
    assert found == {"xray": True, "patched": ["botocore"]}
