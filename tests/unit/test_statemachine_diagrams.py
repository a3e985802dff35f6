"""The Mermaid diagrams of statemachines/README.md are generated from the ASL (crm_dev/asl_diagram.py) and kept
up to date with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crm_dev import asl_diagram
from crm_dev.asl_diagram import BEGIN, END, README, STATE_MACHINES, condition, mermaid, section, updated_readme

DEFINITIONS = sorted(STATE_MACHINES.glob("*.asl.json"))


def test_readme_diagrams_are_those_of_the_asl() -> None:
    current = README.read_text()

    assert updated_readme(current, section()) == current, (
        "statemachines/README.md is out of date with the ASL: run python -m crm_dev.asl_diagram"
    )


def test_readme_has_one_diagram_per_definition() -> None:
    generated = README.read_text().split(BEGIN, 1)[1].split(END, 1)[0]

    assert [line[4:] for line in generated.splitlines() if line.startswith("### ")] == [p.name for p in DEFINITIONS]
    assert generated.count("```mermaid") == len(DEFINITIONS) == 4


def test_a_changed_definition_changes_the_section(tmp_path: Path) -> None:
    source = STATE_MACHINES / "quote_to_cash.asl.json"
    definition = json.loads(source.read_text())
    definition["States"]["Decision"]["Choices"][0]["StringEquals"] = "revise"
    changed = tmp_path / source.name
    changed.write_text(json.dumps(definition))

    before, after = section([source]), section([changed])

    assert before != after
    assert "$.approval.decision == 'revise'" in after


def test_check_fails_when_the_readme_is_out_of_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# State machines\n\n{BEGIN}\nstale\n{END}\n\nafter\n")
    monkeypatch.setattr(asl_diagram, "README", readme)
    monkeypatch.setattr(asl_diagram, "ROOT", tmp_path)

    assert asl_diagram.main(["--check"]) == 1
    assert asl_diagram.main([]) == 0
    assert asl_diagram.main(["--check"]) == 0
    text = readme.read_text()
    assert text.startswith("# State machines\n\n")
    assert text.endswith(f"{END}\n\nafter\n")
    assert "stale" not in text


def test_readme_without_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="marker"):
        updated_readme("# no markers", section())


SAMPLE: dict[str, Any] = {
    "StartAt": "Decide",
    "States": {
        "Decide": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.count", "NumericGreaterThan": 0, "Next": "Each"},
                {
                    "And": [
                        {"Variable": "$.kind", "StringEquals": 'a"b'},
                        {"Not": {"Variable": "$.flag", "IsPresent": True}},
                    ],
                    "Next": "Both",
                },
            ],
            "Default": "Wait",
        },
        "Each": {
            "Type": "Map",
            "MaxConcurrency": 1,
            "ItemProcessor": {
                "StartAt": "AddLine",
                "States": {
                    "AddLine": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {"FunctionName": "${AddQuoteItemFunctionArn}"},
                        "End": True,
                    }
                },
            },
            "Next": "Done",
        },
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "One", "States": {"One": {"Type": "Pass", "End": True}}},
                {"StartAt": "Two", "States": {"Two": {"Type": "Succeed"}}},
            ],
            "Next": "Done",
        },
        "Wait": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "${CreateActivityNoteFunctionArn}"},
            "Catch": [{"ErrorEquals": ["QuoteRejected"], "Next": "Rejected"}],
            "Next": "Done",
        },
        "Rejected": {"Type": "Fail"},
        "Done": {"Type": "Succeed"},
    },
}


def test_diagram_shows_conditions_catches_subgraphs_and_the_waiting_task() -> None:
    lines = mermaid(SAMPLE).splitlines()

    assert lines[0] == "flowchart TD"
    assert '  start(["start"]) --> Decide' in lines
    assert '  Decide{"Decide"}' in lines
    assert '  Decide -->|"$.count #gt; 0"| Each' in lines
    assert "  Decide -->|\"($.kind == 'a#quot;b') and (not ($.flag is present))\"| Both" in lines
    assert '  Decide -->|"default"| Wait' in lines
    assert '  subgraph Each["Each (Map, one item at a time)"]' in lines
    assert '    Each__AddLine["AddLine<br/><small>crm.add_quote_item</small>"]' in lines
    assert '    Each__start_(["each item"]) --> Each__AddLine' in lines
    assert '  subgraph Both["Both (Parallel)"]' in lines
    assert '    subgraph Both__branch2["branch 2"]' in lines
    assert '  Wait["Wait<br/><small>crm.create_activity_note</small><br/>⏸ waits for a task token"]' in lines
    assert '  Wait -.->|"catch QuoteRejected"| Rejected' in lines
    assert "  class Wait wait" in lines
    assert '  Done --> finish(["end"])' in lines
    assert "  class Rejected fail" in lines


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ({"Variable": "$.a", "StringEquals": "x"}, "$.a == 'x'"),
        ({"Variable": "$.a", "BooleanEquals": False}, "$.a == false"),
        ({"Variable": "$.a", "NumericLessThanEquals": 3}, "$.a <= 3"),
        ({"Variable": "$.a", "TimestampGreaterThanEqualsPath": "$.b"}, "$.a >= $.b"),
        ({"Variable": "$.a", "StringMatches": "x*"}, "$.a matches 'x*'"),
        ({"Variable": "$.a", "IsNull": False}, "$.a is not null"),
        (
            {"Or": [{"Variable": "$.a", "NumericEquals": 1}, {"Variable": "$.a", "NumericEquals": 2}]},
            "($.a == 1) or ($.a == 2)",
        ),
    ],
)
def test_condition_text(rule: dict[str, Any], text: str) -> None:
    assert condition(rule) == text
