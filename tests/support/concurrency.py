"""Calls started together on threads, and calls whose inserts into tag_definitions really race."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text

Call = Callable[[], dict[str, Any]]


def with_retries(call: Call, attempts: int = 30) -> dict[str, Any]:
    """``call()``, sent again as a workflow's ``Retry`` would: after a concurrent duplicate still in progress
    (Powertools' IdempotencyAlreadyInProgressError) or a TransientError (deadlock, serialization failure)."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

    from crm_core.errors import TransientError

    for attempt in range(attempts):
        try:
            return call()
        except (IdempotencyAlreadyInProgressError, TransientError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def run_in_threads(calls: list[Call]) -> tuple[list[dict[str, Any]], list[Exception]]:
    """Start every call on its own thread at the same moment; returns the outputs and the errors raised."""
    outputs: list[dict[str, Any]] = []
    errors: list[Exception] = []
    barrier = threading.Barrier(len(calls))

    def run(call: Call) -> None:
        barrier.wait()
        try:
            outputs.append(call())
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outputs, errors


def run_racing_inserts(engine: Engine, calls: list[Call]) -> tuple[list[dict[str, Any]], list[Exception]]:
    """Run ``calls`` so that their inserts into tag_definitions really race.

    A gate transaction locks tag_definitions against writes; each call reads (finds no definition) and then
    blocks on its insert, or behind a call that holds a lock it needs (tagging an activity locks its row, so
    the second call waits for the first). Once every call is blocked, the gate opens and the calls go on: one
    creates the row, the others wait for it on the unique index or read it after the first commits.
    """
    collected: list[tuple[list[dict[str, Any]], list[Exception]]] = []
    with engine.connect() as gate:
        gate_transaction = gate.begin()
        gate.execute(text("lock table tag_definitions in share row exclusive mode"))
        gate_pid = gate.execute(text("select pg_backend_pid()")).scalar_one()
        runner = threading.Thread(target=lambda: collected.append(run_in_threads(calls)))
        runner.start()
        try:
            _wait_for_blocked_calls(engine, gate_pid, len(calls))
        finally:
            gate_transaction.commit()
        runner.join(timeout=120)
    assert collected, "the racing calls did not finish"
    return collected[0]


def _wait_for_blocked_calls(engine: Engine, gate_pid: int, expected: int, timeout: float = 30.0) -> None:
    """Wait until ``expected`` sessions are blocked by the gate, directly or behind a session it blocks."""
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as probe:
            blocked_by = {
                row.pid: set(row.blockers)
                for row in probe.execute(
                    text(
                        "select pid, pg_blocking_pids(pid) as blockers from pg_stat_activity "
                        "where cardinality(pg_blocking_pids(pid)) > 0"
                    )
                )
            }
        behind_gate = {gate_pid}
        while True:
            grown = behind_gate | {pid for pid, blockers in blocked_by.items() if blockers & behind_gate}
            if grown == behind_gate:
                break
            behind_gate = grown
        waiting = len(behind_gate) - 1
        if waiting >= expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"only {waiting} of {expected} calls were blocked behind the tag_definitions gate")
        time.sleep(0.05)
