"""Run the real state machine definitions in moto, with the real crm_core handlers behind the Lambda tasks.

moto executes ASL when started with ``{"stepfunctions": {"execute_state_machine": True}}``; with
``{"lambda": {"use_docker": False}}`` a Lambda task goes to ``LambdaSimpleBackend.invoke``, which only echoes.
``StateMachineHarness`` patches that method to dispatch by function name to the action's real handler, in
process, and to answer an exception the way the Lambda Python runtime does (``x-amz-function-error:
Unhandled``, payload ``{"errorType": <class name>, "errorMessage": str(exc)}``), so Retry and Catch see the
action's error class. Executions run on a moto background thread: ``run`` polls ``describe_execution``.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from crm_core.local.aws_resources import FAKE_CREDENTIALS, LOCAL_DEFAULTS, LocalResources, provision
from crm_core.runtime import build_handler, get_spec
from crm_core.runtime.local_context import LocalLambdaContext

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
STATE_MACHINES = ROOT / "statemachines"
MOTO_CONFIG: Any = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
SUBSTITUTION = re.compile(r"\$\{([A-Za-z0-9_:.]+)\}")


# ---- template.yaml ------------------------------------------------------------------------------------------


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation short-form tags (!Ref X -> {"Ref": "X"}, !GetAtt A.B -> ...)."""


def _cfn_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template() -> dict[str, Any]:
    return dict(yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader))  # a SafeLoader subclass


@dataclass(frozen=True)
class StateMachineResource:
    """An AWS::Serverless::StateMachine of template.yaml and what its definition file is given."""

    logical_id: str
    definition_path: Path
    substitutions: dict[str, str]  # placeholder -> logical id of the function whose Arn it is
    invocable: set[str]  # logical ids of the functions its LambdaInvokePolicy statements name


def state_machine_resources() -> dict[Path, StateMachineResource]:
    """Every state machine of template.yaml with a DefinitionUri, by definition file."""
    found: dict[Path, StateMachineResource] = {}
    for logical_id, resource in load_template()["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::StateMachine" or "DefinitionUri" not in resource["Properties"]:
            continue
        props = resource["Properties"]
        substitutions = {}
        for placeholder, value in (props.get("DefinitionSubstitutions") or {}).items():
            get_att = value.get("Fn::GetAtt") if isinstance(value, dict) else None
            substitutions[placeholder] = get_att[0] if get_att and get_att[1] == "Arn" else str(value)
        invocable = {
            policy["LambdaInvokePolicy"]["FunctionName"]["Ref"]
            for policy in props.get("Policies") or []
            if isinstance(policy, dict) and "LambdaInvokePolicy" in policy
        }
        path = (ROOT / props["DefinitionUri"]).resolve()
        found[path] = StateMachineResource(logical_id, path, substitutions, invocable)
    return found


def function_actions() -> dict[str, str]:
    """Logical id of each action function in template.yaml -> its action id (from its CodeUri)."""
    actions = {}
    for logical_id, resource in load_template()["Resources"].items():
        if resource.get("Type") == "AWS::Serverless::Function":
            name = Path(resource["Properties"]["CodeUri"]).name
            if name != "publish_events":
                actions[logical_id] = f"crm.{name}"
    return actions


# ---- the moto harness ---------------------------------------------------------------------------------------


@dataclass
class Invocation:
    function: str  # logical id (the moto function is named after it)
    payload: dict[str, Any]
    error: str | None = None


@dataclass
class Execution:
    arn: str
    status: str
    output: dict[str, Any] | None
    error: str | None
    cause: str | None
    seconds: float
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cause_json(self) -> dict[str, Any]:
        """The failed action's error, parsed: the Lambda error payload whose errorMessage is the error's JSON."""
        assert self.cause is not None
        payload = json.loads(self.cause)
        return dict(json.loads(payload["errorMessage"]))

    def entered_states(self) -> list[str]:
        return [
            e["stateEnteredEventDetails"]["name"]
            for e in self.history
            if e["type"].endswith("StateEntered") and "stateEnteredEventDetails" in e
        ]


class StateMachineHarness:
    """moto Step Functions + Lambda with the action functions created and their invocations dispatched."""

    def __init__(self, resources: LocalResources, region: str):
        import boto3

        self.resources = resources
        self.region = region
        self.sfn = boto3.client("stepfunctions", region_name=region)
        self.lambda_client = boto3.client("lambda", region_name=region)
        self.actions = function_actions()
        self.function_arns: dict[str, str] = {}
        self.invocations: list[Invocation] = []
        self.faults: dict[str, list[tuple[str, Exception]]] = {}
        self._handlers = {logical_id: build_handler(get_spec(action)) for logical_id, action in self.actions.items()}
        self._lock = threading.Lock()
        iam = boto3.client("iam", region_name=region)
        self.role_arn = iam.create_role(
            RoleName="crm-state-machine-tests",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]

    def create_functions(self) -> None:
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("app.py", "def lambda_handler(event, context):\n    raise NotImplementedError\n")
        for logical_id in self.actions:
            self.function_arns[logical_id] = self.lambda_client.create_function(
                FunctionName=logical_id,
                Runtime="python3.13",
                Role=self.role_arn,
                Handler="app.lambda_handler",
                Code={"ZipFile": code.getvalue()},
            )["FunctionArn"]

    def create_state_machine(self, definition_path: Path) -> str:
        """The definition with its DefinitionSubstitutions of template.yaml applied, created in moto."""
        resource = state_machine_resources()[definition_path.resolve()]
        values = {placeholder: self.function_arns[fn] for placeholder, fn in resource.substitutions.items()}
        missing = set(SUBSTITUTION.findall(definition_path.read_text())) - set(values)
        if missing:
            pytest.fail(f"{definition_path.name} uses {sorted(missing)}, not in {resource.logical_id}'s substitutions")
        definition = SUBSTITUTION.sub(lambda m: values[m.group(1)], definition_path.read_text())
        return str(
            self.sfn.create_state_machine(
                name=f"{resource.logical_id}-{uuid.uuid4().hex[:8]}", definition=definition, roleArn=self.role_arn
            )["stateMachineArn"]
        )

    def fail_once(self, function: str, error: Exception, *, when: str = "before") -> None:
        """The next invocation of ``function`` raises ``error`` before (or after) running the real handler."""
        assert when in {"before", "after"}
        self.faults.setdefault(function, []).append((when, error))

    def calls(self, function: str) -> list[Invocation]:
        return [i for i in self.invocations if i.function == function]

    # Replaces LambdaSimpleBackend.invoke (``backend`` is moto's backend instance).
    def dispatch(self, backend: Any, function_name: str, qualifier: Any, body: Any, response_headers: Any) -> bytes:
        function = backend.get_function(function_name, qualifier).function_name  # unknown -> moto's 404
        event = json.loads(body or "{}")
        invocation = Invocation(function, event)
        with self._lock:
            self.invocations.append(invocation)
            fault = self.faults[function].pop(0) if self.faults.get(function) else None
        try:
            if fault is not None and fault[0] == "before":
                raise fault[1]
            output = self._handlers[function](event, LocalLambdaContext(function))
            if fault is not None:
                raise fault[1]
        except Exception as exc:
            invocation.error = type(exc).__name__
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
        return json.dumps(output).encode()

    def run(self, state_machine_arn: str, execution_input: dict[str, Any], *, timeout: float = 30.0) -> Execution:
        """Start an execution (always named: moto needs it) and wait until it is no longer RUNNING."""
        started = time.monotonic()
        arn = self.sfn.start_execution(
            stateMachineArn=state_machine_arn,
            name=f"run-{uuid.uuid4().hex}",
            input=json.dumps(execution_input, default=str),
        )["executionArn"]
        while True:
            described = self.sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                break
            if time.monotonic() - started > timeout:
                self.sfn.stop_execution(executionArn=arn, error="TestTimeout")
                pytest.fail(f"execution {arn} still RUNNING after {timeout} s")
            time.sleep(0.02)
        history = self.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        return Execution(
            arn=arn,
            status=described["status"],
            output=json.loads(described["output"]) if described.get("output") else None,
            error=described.get("error"),
            cause=described.get("cause"),
            seconds=time.monotonic() - started,
            history=history,
        )


def start_harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[StateMachineHarness]:
    """The body of a fixture: the ``aws`` fixture's environment, moto in executing mode, the dispatch patch."""
    from moto import mock_aws
    from moto.awslambda_simple.models import LambdaSimpleBackend

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in {**LOCAL_DEFAULTS, **FAKE_CREDENTIALS}.items():
        monkeypatch.setenv(name, value)
    with mock_aws(config=MOTO_CONFIG):
        harness = StateMachineHarness(provision(), LOCAL_DEFAULTS["AWS_REGION"])
        harness.create_functions()

        def invoke(
            backend: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any
        ) -> bytes:
            return harness.dispatch(backend, function_name, qualifier, body, response_headers)

        monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
        yield harness
