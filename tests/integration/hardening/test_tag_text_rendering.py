"""Found by the fuzz suite: a tag holding a lone surrogate (valid in a JSON string, not in UTF-8) made the tag
rule's error message unrenderable, so the call failed with InternalError(UnicodeEncodeError) instead of the
ValidationError naming the tag."""

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
    assert "tag_characters" in json.dumps(refused.value.to_dict())
