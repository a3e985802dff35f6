"""scripts/sam_local.sh and its Python side (crm_dev.sam_local_setup), without Docker: the scripts parse, every
function folder is called, every variable the run sets reaches the functions, and the output checks bite."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from crm_dev import sam_local_setup as setup
from crm_dev.step_functions import load_template

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("script", ["sam_local.sh", "sam_cli.sh", "sam_check.sh", "test.sh"])
def test_scripts_parse(script: str) -> None:
    result = subprocess.run(["bash", "-n", str(ROOT / "scripts" / script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_every_function_folder_is_called_under_its_template_resource() -> None:
    resources = setup.function_resources()
    folders = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))
    template = load_template(ROOT / "template.yaml")["Resources"]

    assert list(resources) == folders
    for folder, logical_id in resources.items():
        assert template[logical_id]["Type"] == "AWS::Serverless::Function"
        assert template[logical_id]["Properties"]["CodeUri"].rstrip("/") == f"functions/{folder}"


def test_every_variable_the_run_sets_is_declared_in_the_template() -> None:
    # `sam local --env-vars` drops, silently, any variable the template does not declare.
    variables = setup.function_variables(
        "postgresql+pg8000://crm:crm@172.17.0.1:5432/crm_sam", "http://172.17.0.1:5000"
    )

    assert set(variables) <= setup.declared_variables()
    assert variables["DB_SECRET_ARN"] == ""


def test_declared_local_overrides_are_empty_by_default() -> None:
    # Empty means unset to the layer; in AWS the database comes from DB_SECRET_ARN and boto3 uses AWS's endpoints.
    variables = load_template(ROOT / "template.yaml")["Globals"]["Function"]["Environment"]["Variables"]

    assert variables["DATABASE_URL"] == ""
    assert variables["AWS_ENDPOINT_URL"] == ""


def test_output_checks() -> None:
    assert "NotFoundError" in (setup.expected_shape("find_activities", {"errorType": "NotFoundError"}) or "")
    assert "missing" in (setup.expected_shape("find_activities", {"count": 1}) or "")
    assert setup.expected_shape("publish_events", {"delivered": 0, "retrying": 0, "failed": 0}) is None
    assert setup.expected_shape("publish_events", {}) is not None
    assert setup.expected_shape("publish_events", ["not", "an", "object"]) is not None


def test_first_calls_are_dry_runs_for_actions_only() -> None:
    assert setup.sample_event("find_activities", dry_run=True)["dry_run"] is True
    assert "dry_run" not in setup.sample_event("find_activities", dry_run=False)
    assert "dry_run" not in setup.sample_event("publish_events", dry_run=True)


def test_start_lambda_template_takes_the_built_layer_by_arn_from_sams_layer_cache(tmp_path: Path) -> None:
    built = tmp_path / "build"
    (built / "CrmCoreLayer" / "python").mkdir(parents=True)
    (built / "CrmCoreLayer" / "python" / "marker.py").write_text("X = 1\n")
    (built / "template.yaml").write_text(
        "Globals:\n  Function:\n    Runtime: python3.13\n    Layers:\n    - Ref: CrmCoreLayer\n"
        "Resources:\n"
        "  CrmCoreLayer:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: CrmCoreLayer\n"
        "  OneFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: OneFunction\n"
        "      Layers:\n      - Ref: CrmCoreLayer\n      - arn:aws:lambda:us-east-1:000000000000:layer:other:3\n"
    )
    arn = "arn:aws:lambda:us-east-1:000000000000:layer:crm-core-sam-local-1:1"

    template_path, entry = setup.start_lambda_template(built / "template.yaml", arn, tmp_path / "cache")

    template = load_template(template_path)
    assert template_path.parent == built  # CodeUri stays relative to the build folder
    assert template["Globals"]["Function"]["Layers"] == [arn]
    assert template["Resources"]["OneFunction"]["Properties"]["Layers"][0] == arn
    assert (tmp_path / "cache" / entry / "python" / "marker.py").read_text() == "X = 1\n"
    sam_python = ROOT / ".venv-sam" / "bin" / "python"
    if sam_python.exists():  # the cache entry is named the way SAM looks it up
        name = subprocess.run(
            [
                str(sam_python),
                "-c",
                f"from samcli.lib.providers.provider import LayerVersion as L; print(L({arn!r}, None).name)",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert name == entry
