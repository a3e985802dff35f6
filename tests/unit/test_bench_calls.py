"""bench.calls' merging of several runs and its budget summary (the figures BENCHMARKS.md reports)."""

from __future__ import annotations

from typing import Any

import pytest

from bench.calls import budget_summary, median_of_runs


def run(floor: float, dry: float, *, statements: int = 5, entities: float | None = 4.0) -> dict[str, Any]:
    series = {name: {"p50": value, "p95": value * 1.5} for name, value in (("floor", floor), ("dry", dry))}
    return {
        "mode": "off",
        "environment": {"python": "3.11"},
        "actions": {
            "crm.tag_entity": {
                "counts": {"new": statements, "dry": statements - 1, "new_texts": [f"select {statements}"]},
                "ms": series,
                "trace_entities_per_call": entities,
            }
        },
    }


def test_every_timed_figure_is_the_median_of_the_runs() -> None:
    merged = median_of_runs([run(2.0, 3.0), run(9.0, 2.0), run(3.0, 2.5, entities=5.0)])
    figures = merged["actions"]["crm.tag_entity"]
    assert figures["ms"]["floor"] == {"p50": 3.0, "p95": 4.5}
    assert figures["ms"]["dry"] == {"p50": 2.5, "p95": 3.75}
    assert figures["counts"] == {"new": 5, "dry": 4, "new_texts": ["select 5"]}
    assert figures["trace_entities_per_call"] == 4.0


def test_runs_whose_statement_counts_differ_are_refused() -> None:
    with pytest.raises(SystemExit, match="statement counts differ"):
        median_of_runs([run(2.0, 3.0), run(2.0, 3.0, statements=6)])


def test_statement_texts_may_differ_between_runs() -> None:
    second = run(2.0, 3.0)
    second["actions"]["crm.tag_entity"]["counts"]["new_texts"] = ["select 5 -- another order"]
    assert median_of_runs([run(2.0, 3.0), second])["actions"]["crm.tag_entity"]["counts"]["new"] == 5


def test_the_summary_names_the_actions_over_budget() -> None:
    over = budget_summary({"off": run(2.0, 3.0), "deployed": run(2.0, 2.5)})
    assert "off: dry / floor <= 1.3x for 0 of 1 actions" in over
    assert "crm.tag_entity 1.50x" in over
    assert "deployed: dry / floor <= 1.3x for 1 of 1 actions (median 1.25x, worst 1.25x); over: none" in over
