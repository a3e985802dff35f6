"""The quote status rules: the whole transition table, the guard's error, and expire-on-access."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from crm_core.actions.quotes.transitions import (
    ALLOWED_TRANSITIONS,
    EDITABLE_STATUSES,
    QUOTE_STATUSES,
    REVISABLE_QUOTE_STATUSES,
    can_transition,
    is_expired_on_access,
    require_transition,
)
from crm_core.db.models import quotes as quote_tables
from crm_core.errors import ValidationError
from tests.support.errors import broken_rule

# Written out by hand from the reference's table (section 3, quotes), with the same-status move included in
# every row and None (a template) behaving as draft. Every (from, to) pair not listed here must be refused.
EXPECTED_ALLOWED: dict[str | None, set[str]] = {
    None: {"draft", "pending_approval", "sent", "cancelled"},
    "draft": {"draft", "pending_approval", "sent", "cancelled"},
    "pending_approval": {"pending_approval", "approved", "draft", "cancelled"},
    "approved": {"approved", "sent", "cancelled"},
    "sent": {"sent", "accepted", "rejected", "expired", "cancelled"},
    "accepted": {"accepted", "converted", "cancelled"},
    "rejected": {"rejected", "cancelled"},
    "expired": {"expired", "cancelled"},
    "converted": {"converted"},
    "cancelled": {"cancelled"},
    "superseded": {"superseded"},
    "archived": {"archived"},
}

ALL_STATUSES = (
    "draft",
    "pending_approval",
    "approved",
    "sent",
    "accepted",
    "rejected",
    "expired",
    "converted",
    "cancelled",
    "superseded",
    "archived",
)
EVERY_PAIR = [(current, target) for current in (None, *ALL_STATUSES) for target in ALL_STATUSES]


def test_statuses_are_the_models_statuses_in_the_same_order() -> None:
    assert QUOTE_STATUSES is quote_tables.QUOTE_STATUSES
    assert QUOTE_STATUSES == ALL_STATUSES


def test_the_expected_table_covers_every_status_and_null() -> None:
    assert set(EXPECTED_ALLOWED) == {None, *ALL_STATUSES}
    assert len(EVERY_PAIR) == 12 * 11


def test_the_transition_map_has_one_row_per_status_and_never_lists_the_status_itself() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(QUOTE_STATUSES)
    for status, targets in ALLOWED_TRANSITIONS.items():
        assert status not in targets
        assert targets <= set(QUOTE_STATUSES)


def test_the_transition_map_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        ALLOWED_TRANSITIONS["archived"] = frozenset({"draft"})  # type: ignore[index]


@pytest.mark.parametrize(("current", "target"), EVERY_PAIR)
def test_can_transition_matches_the_table(current: str | None, target: str) -> None:
    assert can_transition(current, target) is (target in EXPECTED_ALLOWED[current])


@pytest.mark.parametrize(("current", "target"), EVERY_PAIR)
def test_require_transition_agrees_with_can_transition(current: str | None, target: str) -> None:
    if target in EXPECTED_ALLOWED[current]:
        require_transition(current, target)
    else:
        with pytest.raises(ValidationError):
            require_transition(current, target)


def test_unknown_statuses_never_transition() -> None:
    assert not can_transition("draft", "bogus")
    assert not can_transition("bogus", "bogus")
    assert not can_transition("bogus", "draft")


def test_a_refused_transition_names_the_rule_the_allowed_statuses_and_both_ends() -> None:
    with pytest.raises(ValidationError) as raised:
        require_transition("sent", "draft")
    error = raised.value
    assert error.code == "VALIDATION_ERROR"
    assert error.message == "Quote status cannot change from sent to draft"
    assert error.details == broken_rule(
        "quote_status_transition", "status", ["accepted", "cancelled", "expired", "rejected"], "sent", target="draft"
    )


def test_a_refused_transition_from_a_template_reports_the_null_status_and_drafts_next_statuses() -> None:
    with pytest.raises(ValidationError) as raised:
        require_transition(None, "accepted")
    assert raised.value.details is not None
    assert raised.value.details["actual"] is None
    assert raised.value.details["expected"] == ["cancelled", "pending_approval", "sent"]
    assert raised.value.message == "Quote status cannot change from draft to accepted"


def test_a_terminal_status_reports_no_allowed_next_statuses() -> None:
    with pytest.raises(ValidationError) as raised:
        require_transition("converted", "cancelled")
    assert raised.value.details is not None
    assert raised.value.details["expected"] == []


def test_editable_and_revisable_statuses() -> None:
    assert frozenset({"draft", None}) == EDITABLE_STATUSES
    assert frozenset({"sent", "rejected", "expired", "cancelled", "accepted"}) == REVISABLE_QUOTE_STATUSES


# --- expire on access -------------------------------------------------------------------------------------------

NOW = datetime(2026, 5, 10, 14, 0, tzinfo=UTC)
START_OF_TODAY = datetime(2026, 5, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("valid_until", "expired"),
    [
        pytest.param(datetime(2026, 5, 10, 1, 0, tzinfo=UTC), False, id="earlier-today"),
        pytest.param(START_OF_TODAY, False, id="exactly-the-start-of-today"),
        pytest.param(START_OF_TODAY - timedelta(microseconds=1), True, id="last-instant-of-yesterday"),
        pytest.param(datetime(2026, 5, 9, 12, 0, tzinfo=UTC), True, id="yesterday"),
        pytest.param(datetime(2026, 4, 1, tzinfo=UTC), True, id="last-month"),
        pytest.param(datetime(2026, 5, 11, 9, 0, tzinfo=UTC), False, id="tomorrow"),
        pytest.param(None, False, id="no-valid-until"),
    ],
)
def test_a_sent_quote_expires_when_valid_until_is_before_today_utc(valid_until: datetime | None, expired: bool) -> None:
    assert is_expired_on_access("sent", valid_until, NOW) is expired


@pytest.mark.parametrize("status", [None, *(s for s in ALL_STATUSES if s != "sent")])
def test_only_sent_quotes_expire_on_access(status: str | None) -> None:
    assert not is_expired_on_access(status, datetime(2026, 5, 1, tzinfo=UTC), NOW)


def test_today_is_the_utc_day_whatever_zone_now_is_given_in() -> None:
    # 01:00 on the 11th at UTC+5 is still the 10th in UTC, so a quote valid until the 10th has not expired.
    now_east = datetime(2026, 5, 11, 1, 0, tzinfo=timezone(timedelta(hours=5)))
    assert not is_expired_on_access("sent", datetime(2026, 5, 10, 10, 0, tzinfo=UTC), now_east)


def test_valid_until_is_compared_as_an_instant_whatever_its_zone() -> None:
    # 01:00 on the 10th at UTC+2 is 23:00 on the 9th in UTC: before the start of today (UTC).
    valid_until = datetime(2026, 5, 10, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert is_expired_on_access("sent", valid_until, NOW)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        is_expired_on_access("sent", START_OF_TODAY, datetime(2026, 5, 10, 14, 0))
    with pytest.raises(ValueError, match="valid_until must be timezone-aware"):
        is_expired_on_access("sent", datetime(2026, 5, 9), NOW)
