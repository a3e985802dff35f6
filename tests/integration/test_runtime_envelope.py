"""The envelope and the actor: what every action checks before its own logic runs."""

from __future__ import annotations

import uuid

import pytest

from crm_core.errors import PermissionDeniedError, ValidationError
from tests.support.handlers import invoke_event
from tests.support.rows import tenant_row_counts
from tests.support.tenants import Tenant

ACTION = "crm.create_activity_note"


def valid_event(tenant: Tenant) -> dict:
    return {
        "tenant_id": str(tenant.id),
        "actor_user_id": str(tenant.actor),
        "input": {"target": {"type": "client", "id": str(tenant.client)}, "body": "hello"},
    }


def test_missing_tenant_is_validation_error(aws, tenant: Tenant) -> None:
    event = valid_event(tenant)
    del event["tenant_id"]

    with pytest.raises(ValidationError) as caught:
        invoke_event(ACTION, event)

    assert caught.value.category == "ValidationError"
    assert caught.value.code == "VALIDATION_ERROR"
    assert caught.value.details["errors"] == [
        {
            "field": "tenant_id",
            "message": "Field required",
            "type": "missing",
            "expected": "a value (the field is required)",
            "actual": None,
            "actual_type": "missing",
        }
    ]


def test_bad_uuid_inside_input_names_the_input_field(aws, tenant: Tenant) -> None:
    event = valid_event(tenant)
    event["input"]["target"]["id"] = "12345"

    with pytest.raises(ValidationError) as caught:
        invoke_event(ACTION, event)

    problem = caught.value.details["errors"][0]
    assert problem["field"] == "input.target.id"
    assert (problem["type"], problem["actual"], problem["actual_type"]) == ("uuid_text", "12345", "string")
    assert problem["expected"].startswith("a UUID string in canonical form")


def test_unknown_input_key_is_validation_error(aws, tenant: Tenant, engine) -> None:
    event = valid_event(tenant)
    event["input"]["colour"] = "blue"
    before = tenant_row_counts(engine, tenant.id)

    with pytest.raises(ValidationError) as caught:
        invoke_event(ACTION, event)

    assert caught.value.details["errors"] == [
        {
            "field": "input.colour",
            "message": "Extra inputs are not permitted",
            "type": "extra_forbidden",
            "expected": "no such field (the input takes only the fields of its schema)",
            "actual": "blue",
            "actual_type": "string",
        }
    ]
    assert tenant_row_counts(engine, tenant.id) == before


def test_unknown_top_level_keys_are_ignored(aws, tenant: Tenant) -> None:
    event = {**valid_event(tenant), "Comment": "Step Functions state passed whole", "previous": {"x": 1}}

    assert invoke_event(ACTION, event)["target_type"] == "client"


def test_actor_of_another_tenant_is_refused(aws, tenant: Tenant, other_tenant: Tenant, engine) -> None:
    event = {**valid_event(tenant), "actor_user_id": str(other_tenant.actor)}
    before = tenant_row_counts(engine, tenant.id)

    with pytest.raises(PermissionDeniedError) as caught:
        invoke_event(ACTION, event)

    assert caught.value.details["rule"] == "actor_is_tenant_user"
    assert tenant_row_counts(engine, tenant.id) == before


def test_unknown_actor_is_refused(aws, tenant: Tenant) -> None:
    with pytest.raises(PermissionDeniedError):
        invoke_event(ACTION, {**valid_event(tenant), "actor_user_id": str(uuid.uuid4())})


def test_inactive_actor_is_refused(aws, tenant: Tenant) -> None:
    inactive = tenant.seed.user(roles=["Admin"], is_inactive=True)

    with pytest.raises(PermissionDeniedError) as caught:
        invoke_event(ACTION, {**valid_event(tenant), "actor_user_id": str(inactive)})

    assert caught.value.details["rule"] == "actor_is_active"


def test_client_portal_user_is_refused(aws, tenant: Tenant) -> None:
    portal_user = tenant.seed.user(roles=["Admin"], user_type="client")

    with pytest.raises(PermissionDeniedError) as caught:
        invoke_event(ACTION, {**valid_event(tenant), "actor_user_id": str(portal_user)})

    assert caught.value.details == {
        "rule": "actor_is_internal",
        "expected": "internal",
        "actual": "client",
        "actor_user_id": str(portal_user),
    }


def test_unknown_tenant_is_refused(aws, tenant: Tenant) -> None:
    with pytest.raises(PermissionDeniedError):
        invoke_event(ACTION, {**valid_event(tenant), "tenant_id": str(uuid.uuid4())})


def test_a_valid_event_runs_the_action(aws, tenant: Tenant) -> None:
    assert invoke_event(ACTION, valid_event(tenant))["target_type"] == "client"
