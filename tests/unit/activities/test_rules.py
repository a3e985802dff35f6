"""The small rules of the activity actions: duration, start before end, previews, stored tags, channels and
type names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crm_core.actions.activities.create_interaction_type import normalized_type_name
from crm_core.actions.activities.events import interaction_channel
from crm_core.actions.activities.rules import require_start_not_after_end, scheduled_duration
from crm_core.actions.activities.summary import notes_preview, parse_tags
from crm_core.errors import ValidationError
from tests.support.errors import broken_rule

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("length", "minutes"),
    [
        (timedelta(0), 0),
        (timedelta(hours=1), 60),
        (timedelta(hours=1, minutes=30), 90),
        (timedelta(minutes=150, seconds=30), 151),  # half a minute rounds up
        (timedelta(seconds=29), 0),
        (timedelta(seconds=31), 1),
        (timedelta(minutes=-5), 0),  # never negative
    ],
)
def test_duration_is_whole_minutes_rounded_half_up(length: timedelta, minutes: int) -> None:
    assert scheduled_duration(START, START + length) == minutes


def test_duration_counts_the_instants_not_the_offsets() -> None:
    end = datetime.fromisoformat("2026-03-02T05:45:00-05:00")  # 10:45Z

    assert scheduled_duration(START, end) == 105


@pytest.mark.parametrize(
    ("start", "end"),
    [(START, START), (START, START + timedelta(seconds=1)), (None, START), (START, None), (None, None)],
)
def test_start_not_after_end_accepts(start: datetime | None, end: datetime | None) -> None:
    require_start_not_after_end(start, end)


def test_start_after_end_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        require_start_not_after_end(START + timedelta(hours=3), START + timedelta(hours=1))

    assert caught.value.message == "start_time must not be after end_time"
    expected = ">= start_time (2026-03-02T12:00:00Z)"
    assert caught.value.details == broken_rule(
        "start_not_after_end", "end_time", expected, "2026-03-02T10:00:00Z", start_time="2026-03-02T12:00:00Z"
    )


@pytest.mark.parametrize(
    ("notes", "more_follows", "preview"),
    [
        (None, False, None),
        ("   \n ", False, None),
        ("  Talked   about\n\nthe  renewal.\t", False, "Talked about the renewal."),
        ("x" * 180, False, "x" * 180),
        ("x" * 181, False, "x" * 180 + "…"),
        ("  word " * 100, False, ("word " * 36)[:180] + "…"),
        ("short head of a longer text", True, "short head of a longer text…"),
        ("x" * 200, True, "x" * 180 + "…"),
    ],
)
def test_notes_preview(notes: str | None, more_follows: bool, preview: str | None) -> None:
    assert notes_preview(notes, more_follows=more_follows) == preview


@pytest.mark.parametrize(
    ("stored", "tags"),
    [
        (None, []),
        (["renewal", "q2"], ["renewal", "q2"]),
        (("renewal", None, ""), ["renewal"]),
        ('["renewal", "q2", null]', ["renewal", "q2"]),
        ("renewal", ["renewal"]),
        ("  ", []),
        ("[not json", ["[not json"]),
        ('["a"] trailing', ['["a"] trailing']),
        (42, ["42"]),
    ],
)
def test_stored_tags_in_any_form_read_as_a_list(stored: object, tags: list[str]) -> None:
    assert parse_tags(stored) == tags


@pytest.mark.parametrize(
    ("type_name", "channel"),
    [
        ("Email follow-up", "email"),
        ("Phone screen", "phone"),
        ("Call", "phone"),
        ("Meeting", "meeting"),
        ("Sticky note", "note"),
        ("Site Visit", "other"),
        (None, "other"),
        ("EMAIL call", "email"),  # the first rule that matches wins
    ],
)
def test_channel_comes_from_the_type_name(type_name: str | None, channel: str) -> None:
    assert interaction_channel(type_name) == channel


@pytest.mark.parametrize(
    ("name", "normalized"),
    [("Quarterly  Review", "quarterly review"), (" quarterly review ", "quarterly review"), ("QBR\t", "qbr")],
)
def test_type_names_compare_ignoring_case_and_spacing(name: str, normalized: str) -> None:
    assert normalized_type_name(name) == normalized
