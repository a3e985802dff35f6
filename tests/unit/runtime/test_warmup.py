"""The init phase's warm-up: mappers configured, the engine created without connecting (sockets are disabled in
the unit tests), and nothing that needs configuration attempted without it."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.metrics import MetricUnit

from crm_core.actions.activities.find_activities import SPEC
from crm_core.db import engine as engine_module
from crm_core.runtime import all_specs, build_handler
from crm_core.runtime.observability import metrics
from crm_core.runtime.warmup import warm_up
from crm_core.settings import reset_settings

URL = "postgresql+pg8000://nobody:secret@db.invalid:5432/crm"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "DB_SECRET_ARN", "IDEMPOTENCY_TABLE"):
        monkeypatch.delenv(name, raising=False)
    reset_settings()


def test_without_configuration_nothing_is_attempted(environment: None) -> None:
    steps = warm_up(build_handler(SPEC))

    assert set(steps) == {"log and metrics"}  # needs no configuration


def test_the_log_line_and_metrics_are_rehearsed_without_emitting_either(
    environment: None, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics.add_metric(name="Pending", unit=MetricUnit.Count, value=1)  # what a call would have added itself

    warm_up(build_handler(SPEC))

    assert capsys.readouterr() == ("", "")
    assert metrics.metric_set == {} and metrics.dimension_set == metrics.default_dimensions


def test_the_engine_is_created_without_connecting(environment: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", URL)
    monkeypatch.setenv("DB_SSLMODE", "disable")
    reset_settings()
    try:
        steps = warm_up(build_handler(SPEC), connect=False)

        assert "engine" in steps and "connection" not in steps
        engine = engine_module._engines[URL]
        assert engine.pool.checkedin() == 0 and engine.pool.checkedout() == 0  # no connection was opened
    finally:
        created = engine_module._engines.pop(URL, None)
        if created is not None:
            created.dispose()
        reset_settings()


def test_a_connection_that_fails_at_init_is_logged_not_raised(
    environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", URL)  # sockets are disabled here: connecting fails
    monkeypatch.setenv("DB_SSLMODE", "disable")
    reset_settings()
    try:
        steps = warm_up(build_handler(SPEC))

        assert {"engine", "connection"} <= set(steps)
    finally:
        created = engine_module._engines.pop(URL, None)
        if created is not None:
            created.dispose()
        reset_settings()


@pytest.mark.parametrize("spec", all_specs(), ids=lambda spec: spec.id)
def test_every_action_names_a_rehearsal_input_its_model_accepts(spec) -> None:
    assert spec.rehearsal_input is not None
    spec.input_model.model_validate(spec.rehearsal_input)


def test_a_deployed_side_effectful_action_creates_its_aws_clients_at_init(
    environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crm_core.actions.quotes.send_quote import SPEC as SEND_QUOTE
    from crm_core.aws import clients
    from crm_core.runtime import idempotency

    monkeypatch.setenv("IDEMPOTENCY_TABLE", "crm-idempotency")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # clients and first lines made here (with no emulator) must not outlive the test
    monkeypatch.setattr(clients, "_clients", {})
    monkeypatch.setattr(idempotency, "_first_lines", {})
    reset_settings()
    try:
        steps = warm_up(build_handler(SEND_QUOTE))

        assert {"prepare", "idempotency", "aws clients"} <= set(steps)
        assert {"s3", "sesv2"} <= {service for service, *_ in clients._clients}  # beside the first line's dynamodb
    finally:
        reset_settings()


def test_effect_services_are_the_ones_effects_are_delivered_to() -> None:
    from crm_core.aws.clients import _EFFECT_REHEARSALS

    for spec in all_specs():
        assert set(spec.effect_services) <= set(_EFFECT_REHEARSALS), spec.id  # events, s3, sesv2
        assert not spec.effect_services or spec.side_effectful, spec.id
