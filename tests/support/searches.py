"""What every search action (crm.find_activities, crm.find_quotes) must show, checked the same way for each."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from crm_dev.aws_resources import LocalResources
from tests.support.rows import count_rows, tenant_row_counts

Invoke = Callable[..., dict[str, Any]]


def assert_records_nothing(
    invoke: Invoke,
    engine: Engine,
    aws: LocalResources,
    tenant_id: uuid.UUID,
    action: str,
    action_input: dict[str, Any],
) -> None:
    """``action`` is read-only: the same call twice in one run and once as a dry run answer alike, and leave no
    row (no ledger entry, no audit row) and no event."""
    before = tenant_row_counts(engine, tenant_id)

    first = invoke(action, action_input, run_id="run-1", step_path="find")
    again = invoke(action, action_input, run_id="run-1", step_path="find")
    dry = invoke(action, action_input, dry_run=True)

    assert first == again == dry
    assert tenant_row_counts(engine, tenant_id) == before
    assert count_rows(engine, tenant_id, "workflow_action_invocations") == 0
    assert count_rows(engine, tenant_id, "audit_logs") == before.get("audit_logs", 0)
    assert aws.drain_events() == []


def assert_total_counts_every_match(invoke: Invoke, action: str, action_input: dict[str, Any], matches: int) -> None:
    """With ``include_total``, a page of two still reports all ``matches`` of ``action_input``."""
    out = invoke(action, {**action_input, "limit": 2, "include_total": True})

    assert out["count"] == 2
    assert out["total"] == matches


def assert_120_matches_in_pages_of_25(pages: list[dict[str, Any]], seen: list[str]) -> None:
    """``pages`` of a search for 120 matches, 25 a page, with ``include_total``: five pages of 25, 25, 25, 25 and 20,
    each counting all 120, the last without a cursor; ``seen`` (their ids) holds each of the 120 once."""
    assert [p["count"] for p in pages] == [25, 25, 25, 25, 20]
    assert [p["has_more"] for p in pages] == [True, True, True, True, False]
    assert pages[-1]["next_cursor"] is None
    assert all(p["total"] == 120 for p in pages)
    assert len(seen) == len(set(seen)) == 120
