"""The contract's error classes: their names (the Lambda errorType), categories, codes, and JSON text; and how
failures that are not ActionFailures are mapped onto them without a database."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from crm_core.errors import (
    ActionFailure,
    ConflictError,
    InternalError,
    NotFoundError,
    PermissionDeniedError,
    TransientError,
    ValidationError,
    guard_failed,
)
from crm_core.runtime.error_mapping import to_action_failure
from tests.support.errors import broken_rule


@pytest.mark.parametrize(
    ("error_class", "category", "code"),
    [
        (ValidationError, "ValidationError", "VALIDATION_ERROR"),
        (NotFoundError, "ActionError", "NOT_FOUND"),
        (PermissionDeniedError, "ActionError", "PERMISSION_DENIED"),
        (ConflictError, "ActionError", "CONFLICT"),
        (TransientError, "TransientError", "TRANSIENT_FAILURE"),
        (InternalError, "ActionError", "INTERNAL_ERROR"),
    ],
)
def test_each_class_has_its_category_and_default_code(
    error_class: type[ActionFailure], category: str, code: str
) -> None:
    error = error_class("Something happened", {"id": "x"})

    assert isinstance(error, ActionFailure)
    assert (error.category, error.code, error.message, error.details) == (
        category,
        code,
        "Something happened",
        {"id": "x"},
    )
    assert error.to_dict() == {
        "category": category,
        "code": code,
        "message": "Something happened",
        "details": {"id": "x"},
    }


def test_the_text_of_an_error_is_its_json_object_with_sorted_keys() -> None:
    record = uuid.UUID(int=5)
    error = NotFoundError("Client not found", {"resource": "client", "id": record})

    text = str(error)

    assert json.loads(text) == {
        "category": "ActionError",
        "code": "NOT_FOUND",
        "message": "Client not found",
        "details": {"resource": "client", "id": str(record)},
    }
    assert list(json.loads(text)) == ["category", "code", "details", "message"]


def test_a_code_may_be_given() -> None:
    error = TransientError("slow down", {"aws_error": "Throttling"}, code="RATE_LIMITED")

    assert (error.category, error.code) == ("TransientError", "RATE_LIMITED")


def test_details_may_be_absent() -> None:
    assert json.loads(str(InternalError("boom")))["details"] is None


def test_a_broken_guard_names_rule_field_expected_and_actual() -> None:
    error = guard_failed(
        "start_not_after_end", "start after end", field="end_time", expected="later", actual="earlier", start_time="t"
    )

    assert isinstance(error, ValidationError)
    assert error.message == "start after end"
    assert error.details == broken_rule("start_not_after_end", "end_time", "later", "earlier", start_time="t")
    assert list(error.details) == ["rule", "field", "expected", "actual", "start_time"]


def test_a_guard_without_a_field_has_none() -> None:
    assert guard_failed("at_least_one_filter", "give a filter").details == {
        "rule": "at_least_one_filter",
        "expected": None,
        "actual": None,
    }


def test_an_action_failure_passes_through_unchanged() -> None:
    error = ConflictError("taken")

    assert to_action_failure(error) is error


def aws_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "..."}}, "PutEvents")


@pytest.mark.parametrize("code", ["ThrottlingException", "ProvisionedThroughputExceededException", "SlowDown"])
def test_aws_throttling_is_transient_and_rate_limited(code: str) -> None:
    failure = to_action_failure(aws_error(code))

    assert isinstance(failure, TransientError)
    assert failure.code == "RATE_LIMITED"
    assert failure.details == {"aws_error": code}


@pytest.mark.parametrize("code", ["InternalError", "ServiceUnavailable"])
def test_aws_service_errors_are_transient(code: str) -> None:
    failure = to_action_failure(aws_error(code))

    assert isinstance(failure, TransientError)
    assert failure.code == "TRANSIENT_FAILURE"


def test_other_aws_errors_are_internal_and_name_the_code() -> None:
    failure = to_action_failure(aws_error("AccessDeniedException"))

    assert isinstance(failure, InternalError)
    assert failure.message == "AWS request failed: AccessDeniedException"


def test_an_unreachable_aws_endpoint_is_transient() -> None:
    failure = to_action_failure(EndpointConnectionError(endpoint_url="https://events.example"))

    assert isinstance(failure, TransientError)


def test_an_unexpected_exception_is_internal_and_names_only_its_type() -> None:
    failure = to_action_failure(KeyError("secret detail"))

    assert isinstance(failure, InternalError)
    assert failure.message == "Unexpected internal error (KeyError)"
    assert failure.details == {"type": "KeyError"}
