"""The crm_core layer as `sam build` produced it (scripts/sam_check.sh runs this after building; skipped when
there is no build): compiled for the runtime's Python, and holding production code only."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = Path(os.environ.get("BUILT_LAYER", ROOT / ".aws-sam" / "build" / "CrmCoreLayer" / "python"))
# The template's runtime, e.g. python3.13 -> the .pyc tag cpython-313 (LAMBDA_PYTHON overrides, as in the build).
RUNTIME = (
    os.environ.get("LAMBDA_PYTHON")
    or re.findall(r"^\s*Runtime:\s*(python3\.\d+)", (ROOT / "template.yaml").read_text(), re.M)[0]
)
TAG = "cpython-" + RUNTIME.removeprefix("python").replace(".", "")
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source never checked

pytestmark = pytest.mark.skipif(not LAYER.is_dir(), reason=f"no built layer at {LAYER} (run scripts/sam_check.sh)")


def _sources() -> list[Path]:
    return [path for path in LAYER.rglob("*.py") if "__pycache__" not in path.parts]


def test_every_module_has_a_pyc_for_the_runtime() -> None:
    sources = _sources()
    assert len(sources) > 1000  # the dependencies are there, not only crm_core
    missing = [
        str(path.relative_to(LAYER))
        for path in sources
        if not (path.parent / "__pycache__" / f"{path.stem}.{TAG}.pyc").is_file()
    ]
    assert missing == [], f"{len(missing)} modules without a {TAG} .pyc, e.g. {missing[:5]}"


def test_pycs_are_never_checked_against_their_source() -> None:
    """A zip keeps mtimes to two seconds, so timestamp .pycs would look stale on Lambda and compile again."""
    flags = {int.from_bytes(pyc.read_bytes()[4:8], "little") for pyc in (LAYER / "crm_core").rglob(f"*.{TAG}.pyc")}
    assert flags == {UNCHECKED_HASH}


def test_no_pyc_of_another_interpreter() -> None:
    foreign = [str(p.relative_to(LAYER)) for p in LAYER.rglob("*.pyc") if f".{TAG}." not in p.name]
    assert foreign == []


@pytest.mark.parametrize("unwanted", ["crm_dev", "crm_demo", "moto", "reportlab", "fpdf", "tests"])
def test_layer_ships_production_code_only(unwanted: str) -> None:
    assert not (LAYER / unwanted).exists()


def test_layer_ships_the_statement_shapes_the_init_phase_compiles() -> None:
    shipped = LAYER / "crm_core" / "statement_shapes.json"
    assert shipped.read_bytes() == (ROOT / "layers" / "crm_core" / "crm_core" / "statement_shapes.json").read_bytes()
