"""Found by the fuzz suite: a tag holding a lone surrogate (valid in a JSON string, not in UTF-8) made the tag
rule's error message unrenderable, so the call failed with InternalError(UnicodeEncodeError) instead of a
ValidationError naming the tag. The runtime now refuses any lone surrogate in an event before the action runs,
naming the field (runtime/envelope.py ``require_unicode_text``); the tag rule's message escapes one too."""

from __future__ import annotations

import json

import pytest

from crm_core.errors import ValidationError
from crm_dev.aws_resources import LocalResources
from tests.support.handlers import invoke_action
from tests.support.tenants import Tenant


@pytest.mark.parametrize("tag", ["a\ud800", "\udfff", "ok \ud83d"])
def test_a_lone_surrogate_in_a_tag_is_a_validation_error_naming_the_tag(
    tag: str, tenant: Tenant, aws: LocalResources
) -> None:
    payload = {"target": {"type": "client", "id": str(tenant.client)}, "tags": [tag]}
    with pytest.raises(ValidationError) as refused:
        invoke_action("crm.tag_entity", tenant.id, tenant.actor, payload)
    problem = refused.value.details["errors"][0]
    assert (problem["field"], problem["type"]) == ("input.tags[0]", "unicode_surrogate")
    json.dumps(refused.value.to_dict(), ensure_ascii=False).encode("utf-8")  # the error itself is valid text
