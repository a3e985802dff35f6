"""The field types every action schema is built from: date-times in and out, non-blank text, free-text tags
and picker fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pydantic
import pytest

from crm_core.actions.fields import (
    ActionInput,
    ActionOutput,
    FreeTextTags,
    NonBlankText,
    OffsetDateTime,
    UtcDateTime,
    Uuid,
    iso_utc,
    picker,
)


class Sample(ActionInput):
    at: OffsetDateTime
    title: NonBlankText
    tags: FreeTextTags = []
    client_id: Uuid | None = picker("client", "The client.", default=None)
    contact_id: Uuid | None = picker("contact", "The contact.", dependencies=["client_id"], default=None)


class SampleOutput(ActionOutput):
    at: UtcDateTime


def sample(**fields: object) -> Sample:
    return Sample.model_validate({"at": "2026-03-02T10:00:00+01:00", "title": "Call", **fields})


def problems(**fields: object) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(pydantic.ValidationError) as caught:
        sample(**fields)
    return [(error["loc"], error["type"]) for error in caught.value.errors()]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "2026-03-02T09:00:00Z"),
        (datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=1))), "2026-03-02T09:00:00Z"),
        (datetime(2026, 3, 2, 4, 0, 30, 500, tzinfo=timezone(timedelta(hours=-5))), "2026-03-02T09:00:30.000500Z"),
    ],
)
def test_output_date_times_are_utc_with_z(value: datetime, text: str) -> None:
    assert iso_utc(value) == text
    assert SampleOutput(at=value).model_dump(mode="json") == {"at": text}


def test_input_date_times_need_an_offset() -> None:
    assert sample().at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert problems(at="2026-03-02T10:00:00") == [(("at",), "date_time_text")]
    assert problems(at=datetime(2026, 3, 2, 10, 0)) == [(("at",), "timezone_aware")]


@pytest.mark.parametrize("title", ["", " ", "\n\t"])
def test_text_must_say_something(title: str) -> None:
    assert problems(title=title) == [(("title",), "value_error")]


def test_free_text_tags_are_trimmed_and_deduplicated() -> None:
    assert sample(tags=["renewal", " renewal ", "Renewal"]).tags == ["renewal", "Renewal"]


@pytest.mark.parametrize("tags", [[""], ["ok", " "]])
def test_free_text_tags_must_not_be_blank(tags: list[str]) -> None:
    assert problems(tags=tags) == [(("tags",), "value_error")]


def test_unknown_input_keys_are_refused() -> None:
    assert problems(colour="blue") == [(("colour",), "extra_forbidden")]


def test_picker_fields_carry_the_designer_metadata() -> None:
    properties = Sample.model_json_schema()["properties"]

    assert properties["client_id"]["x-workflow-picker-kind"] == "client"
    assert properties["client_id"]["x-workflow-picker-fixed-value-hint"] == "Search clients"
    assert properties["client_id"]["x-workflow-picker-allow-dynamic-reference"] is True
    assert "x-workflow-picker-dependencies" not in properties["client_id"]
    assert properties["contact_id"]["x-workflow-picker-dependencies"] == ["client_id"]
    assert properties["contact_id"]["description"] == "The contact."
