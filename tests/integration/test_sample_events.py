"""Every sample event in events/ runs against the demo tenant (the README's `crm-actions invoke` promise)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from crm_core.runtime import all_specs
from crm_demo.seed import seed_demo_tenant
from tests.support.handlers import invoke_event

ROOT = Path(__file__).resolve().parents[2]


def test_each_sample_event_succeeds_against_the_demo_tenant(aws, scratch_database) -> None:
    seed_demo_tenant(scratch_database)

    for spec in all_specs():
        event = json.loads((ROOT / "events" / f"{spec.name}.json").read_text())
        output = invoke_event(spec, event)
        assert spec.output_model.model_validate(output), spec.id


def test_readme_invoke_command_against_the_demo_database(scratch_database) -> None:
    seed_demo_tenant(scratch_database)
    environment = {**os.environ, "DATABASE_URL": scratch_database.url.render_as_string(hide_password=False)}
    command = [
        sys.executable,
        "-m",
        "crm_dev.cli",
        "invoke",
        "crm.create_activity_note",
        "--event",
        "events/create_activity_note.json",
        "--emulate-aws",
    ]

    first = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False)
    again = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False)

    assert first.returncode == 0, first.stderr
    note = json.loads(first.stdout)
    assert note["target_summary"]["client_name"] == "Acme Corp"
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["note_id"] == note["note_id"]  # same run id and step: replayed, not repeated
