"""Tag text: trimmed, 1-50 characters of letters, digits, white space and AlgaPSA's punctuation; a tag list
drops duplicates and keeps case. Each refusal names the tag."""

from __future__ import annotations

import uuid
from typing import Any

import pydantic
import pytest
from pydantic_core import PydanticCustomError

from crm_core.actions.tags.tag_activity import TagActivityInput
from crm_core.actions.tags.tag_entity import TagEntityInput
from crm_core.actions.tags.tagging import ALLOWED_PUNCTUATION, clean_tag_text
from crm_core.errors import ValidationError
from crm_core.runtime import get_spec
from crm_core.runtime.envelope import validation_error_from


def tag_entity_input(tags: list[str], **extra: Any) -> TagEntityInput:
    return TagEntityInput.model_validate({"target": {"type": "client", "id": str(uuid.uuid4())}, "tags": tags, **extra})


def refusal(tags: list[str]) -> ValidationError:
    """The ValidationError the handler makes of crm.tag_entity's input with ``tags``."""
    with pytest.raises(pydantic.ValidationError) as caught:
        tag_entity_input(tags)
    return validation_error_from(caught.value, what="input for crm.tag_entity", prefix="input")


@pytest.mark.parametrize(
    "tag",
    ["a" * 50, f"Q3 {ALLOWED_PUNCTUATION}", "Renewal 2026\tfollow up", "VIP", "x"],
    ids=["fifty-characters", "punctuation", "white-space", "upper-case", "one-character"],
)
def test_allowed_tags_are_kept_as_they_are(tag: str) -> None:
    assert clean_tag_text(tag) == tag


def test_tags_are_trimmed_and_the_limit_counts_after_trimming() -> None:
    assert clean_tag_text("  needs-qbr \n") == "needs-qbr"
    assert clean_tag_text("  " + "y" * 50 + " ") == "y" * 50


@pytest.mark.parametrize(
    ("bad_tag", "shown", "reason"),
    [
        ("x" * 51, "x" * 51, "has 51 characters; at most 50 are allowed"),
        ("  " + "y" * 51 + " ", "y" * 51, "has 51 characters"),
        ("needs|qbr", "needs|qbr", "contains characters that are not allowed (|)"),
        ("back\\slash", "back\\\\slash", "not allowed (\\)"),
        ("tilde~", "tilde~", "not allowed (~)"),
        ("emoji-🚀", "emoji-🚀", "not allowed (🚀)"),
        ("   ", "   ", "is blank"),
        ("", "", "is blank"),
    ],
)
def test_invalid_tag_text_is_validation_error_naming_the_tag(bad_tag: str, shown: str, reason: str) -> None:
    error = refusal(["fine", bad_tag])

    assert error.code == "VALIDATION_ERROR"
    assert f'Tag "{shown}"' in error.message
    assert reason in error.message
    (problem,) = error.details["errors"]
    assert problem["field"] == "input.tags.1"


def test_every_character_not_allowed_is_listed_once_in_order() -> None:
    with pytest.raises(PydanticCustomError) as caught:
        clean_tag_text("a~b|c~")

    assert caught.value.type == "tag_characters"
    assert "(| ~)" in str(caught.value)


def test_a_very_long_tag_is_shown_shortened() -> None:
    with pytest.raises(PydanticCustomError) as caught:
        clean_tag_text("z" * 200)

    assert '"' + "z" * 80 + '…"' in str(caught.value)
    assert "has 200 characters" in str(caught.value)


def test_tag_lists_are_trimmed_deduplicated_and_case_sensitive() -> None:
    given = ["  needs-qbr ", "needs-qbr", "VIP", "vip", "VIP "]

    assert tag_entity_input(given).tags == ["needs-qbr", "VIP", "vip"]
    assert TagActivityInput.model_validate({"activity_id": str(uuid.uuid4()), "tags": given}).tags == [
        "needs-qbr",
        "VIP",
        "vip",
    ]


@pytest.mark.parametrize(
    ("tags", "field"),
    [([], "input.tags"), (["t"] * 101, "input.tags")],
    ids=["empty", "more-than-100"],
)
def test_tag_list_length_is_limited(tags: list[str], field: str) -> None:
    assert refusal(tags).details["errors"][0]["field"] == field


@pytest.mark.parametrize(
    ("action_id", "action_input", "needs"),
    [
        ("crm.tag_activity", {"activity_id": str(uuid.uuid4()), "tags": ["x"]}, ["interaction:update"]),
        ("crm.tag_entity", {"target": {"type": "ticket", "id": str(uuid.uuid4())}, "tags": ["x"]}, ["ticket:update"]),
        (
            "crm.tag_entity",
            {"target": {"type": "interaction", "id": str(uuid.uuid4())}, "tags": ["x"]},
            ["interaction:update"],
        ),
    ],
)
def test_tagging_needs_update_on_the_tagged_record(
    action_id: str, action_input: dict[str, Any], needs: list[str]
) -> None:
    """tag:create is checked in the action, and only when a tag needs a new definition."""
    spec = get_spec(action_id)

    assert [str(need) for need in spec.permissions(spec.input_model.model_validate(action_input))] == needs
