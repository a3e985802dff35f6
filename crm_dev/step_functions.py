"""Run the state machines of template.yaml in moto's Step Functions, with the real action handlers as the Lambdas.

moto executes ASL when its config says ``{"stepfunctions": {"execute_state_machine": True}}``; with
``{"lambda": {"use_docker": False}}`` a Lambda task goes to ``LambdaSimpleBackend.invoke``, which only echoes.
``StateMachineRunner.dispatching()`` replaces that method (and restores it afterwards) with one that sends each
invocation, by function name, to the action's real handler in this process, and answers an exception the way the
Lambda Python runtime does (``x-amz-function-error: Unhandled``, payload ``{"errorType": <class name>,
"errorMessage": str(exc)}``), so ``Retry`` and ``Catch`` see the action's error class.

Two ways to get there:

- ``in_process()``: ``mock_aws`` with that config, the local AWS resources provisioned (the tests);
- ``on_server()``: a moto server running in *this* process (the demo's ``ThreadedMotoServer``), configured through
  ``POST {endpoint}/moto-api/config``. Step Functions calls Lambda at ``http://localhost:$MOTO_PORT``, so
  ``MOTO_PORT`` must be the server's port.

The functions are created in moto under their logical ids of template.yaml; a state machine gets its
``DefinitionSubstitutions`` applied with their ARNs. Executions run on a moto background thread: ``run`` polls
``describe_execution`` until the execution is no longer RUNNING. Nothing here is part of the layer.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import threading
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from crm_core.runtime import all_specs, build_handler, get_spec
from crm_dev.aws_resources import LocalResources, provision
from crm_dev.lambda_context import LocalLambdaContext

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
STATE_MACHINES = ROOT / "statemachines"
MOTO_CONFIG: Any = {  # moto types it as its DefaultConfig TypedDict
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
SUBSTITUTION = re.compile(r"\$\{([A-Za-z0-9_:.]+)\}")
ROLE_NAME = "crm-state-machines"
_PROBE = "__crm_dispatch_probe__"


class StepFunctionsError(Exception):
    """The definition, the template or the emulator is not as this module needs it."""


class ExecutionTimeout(StepFunctionsError):
    """An execution was still RUNNING when ``run`` gave up (it is stopped first)."""


# ---- template.yaml ------------------------------------------------------------------------------------------


class CloudFormationLoader(yaml.SafeLoader):  # type: ignore[misc]
    """Reads a CloudFormation/SAM template, keeping the short-form tags as their JSON form.

    ``!Ref X`` -> ``{"Ref": "X"}``, ``!Condition X`` -> ``{"Condition": "X"}``, ``!GetAtt A.B`` ->
    ``{"Fn::GetAtt": ["A", "B"]}``, any other ``!Name value`` -> ``{"Fn::Name": value}``.
    """


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = suffix if suffix in {"Ref", "Condition"} else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as plain data (intrinsic functions as their JSON form)."""
    return dict(yaml.load(path.read_text(), Loader=CloudFormationLoader))  # a SafeLoader subclass


@dataclass(frozen=True)
class StateMachineResource:
    """An AWS::Serverless::StateMachine of template.yaml and what its definition file is given."""

    logical_id: str
    definition_path: Path
    substitutions: dict[str, str]  # placeholder -> logical id of the function whose Arn it is
    invocable: set[str]  # logical ids of the functions its LambdaInvokePolicy statements name


def state_machine_resources(template: dict[str, Any] | None = None) -> dict[Path, StateMachineResource]:
    """Every state machine of the template with a DefinitionUri, by (resolved) definition file."""
    found: dict[Path, StateMachineResource] = {}
    for logical_id, resource in (template or load_template())["Resources"].items():
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


def function_actions(template: dict[str, Any] | None = None) -> dict[str, str]:
    """Logical id of each action function of the template -> its action id (its CodeUri is functions/<name>/).

    Functions that are no action (the outbox relay ``publish_events``) are left out.
    """
    by_name = {spec.name: spec.id for spec in all_specs()}
    actions = {}
    for logical_id, resource in (template or load_template())["Resources"].items():
        if resource.get("Type") == "AWS::Serverless::Function":
            name = Path(str(resource["Properties"]["CodeUri"])).name
            if name in by_name:
                actions[logical_id] = by_name[name]
    return actions


# ---- executions ----------------------------------------------------------------------------------------------


@dataclass
class Invocation:
    """One Lambda invocation a state machine made (in order), and the error class it answered with, if any."""

    function: str  # logical id (the moto function is named after it)
    action: str
    payload: dict[str, Any]
    error: str | None = None
    output: dict[str, Any] | None = None


@dataclass
class Execution:
    """What ``describe_execution`` and ``get_execution_history`` said once the execution ended."""

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
        """The names of the states the execution entered, in order."""
        return [
            e["stateEnteredEventDetails"]["name"]
            for e in self.history
            if e["type"].endswith("StateEntered") and "stateEnteredEventDetails" in e
        ]


def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    import boto3

    return boto3.client(service, region_name=region, endpoint_url=endpoint_url)


class StateMachineRunner:
    """moto Step Functions + Lambda with the action functions created and their invocations dispatched.

    ``resources`` are the local AWS resources the handlers use (for callers that want to read the events).
    """

    def __init__(
        self, resources: LocalResources | None = None, *, region: str | None = None, endpoint_url: str | None = None
    ):
        self.resources = resources
        self.region = region or os.environ["AWS_REGION"]
        self.endpoint_url = endpoint_url
        self.sfn = _client("stepfunctions", self.region, endpoint_url)
        self.lambda_client = _client("lambda", self.region, endpoint_url)
        self.template = load_template()
        self.state_machines = state_machine_resources(self.template)
        self.actions = function_actions(self.template)
        self.function_arns: dict[str, str] = {}
        self.role_arn = ""
        self.invocations: list[Invocation] = []
        self.faults: dict[str, list[tuple[str, Exception]]] = {}
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {
            logical_id: build_handler(get_spec(action)) for logical_id, action in self.actions.items()
        }
        self._lock = threading.Lock()

    # -- setup

    def _create_role(self) -> str:
        iam = _client("iam", self.region, self.endpoint_url)
        try:
            return str(iam.get_role(RoleName=ROLE_NAME)["Role"]["Arn"])
        except iam.exceptions.NoSuchEntityException:
            pass
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        return str(iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])

    def create_functions(self) -> None:
        """The IAM role and one Lambda function per action function of template.yaml, named by logical id
        (kept when the emulator already has them)."""
        self.role_arn = self._create_role()
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("app.py", "def lambda_handler(event, context):\n    raise NotImplementedError\n")
        for logical_id in self.actions:
            try:
                created = self.lambda_client.create_function(
                    FunctionName=logical_id,
                    Runtime="python3.13",
                    Role=self.role_arn,
                    Handler="app.lambda_handler",
                    Code={"ZipFile": code.getvalue()},
                )
            except self.lambda_client.exceptions.ResourceConflictException:  # a server that already has them
                created = self.lambda_client.get_function(FunctionName=logical_id)["Configuration"]
            self.function_arns[logical_id] = created["FunctionArn"]

    def create_state_machine(self, definition_path: Path, *, name: str | None = None) -> str:
        """The definition with its DefinitionSubstitutions of template.yaml applied, created in moto; its ARN."""
        resource = self.state_machines.get(definition_path.resolve())
        if resource is None:
            raise StepFunctionsError(f"no state machine of template.yaml has DefinitionUri {definition_path.name}")
        if not self.function_arns:
            raise StepFunctionsError("create_functions() first")
        values = {placeholder: self.function_arns[fn] for placeholder, fn in resource.substitutions.items()}
        text = definition_path.read_text()
        missing = set(SUBSTITUTION.findall(text)) - set(values)
        if missing:
            raise StepFunctionsError(
                f"{definition_path.name} uses {sorted(missing)}, not in {resource.logical_id}'s substitutions"
            )
        definition = SUBSTITUTION.sub(lambda m: values[m.group(1)], text)
        return str(
            self.sfn.create_state_machine(
                name=name or f"{resource.logical_id}-{uuid.uuid4().hex[:8]}",
                definition=definition,
                roleArn=self.role_arn,
            )["stateMachineArn"]
        )

    # -- dispatch

    def fail_once(self, function: str, error: Exception, *, when: str = "before") -> None:
        """The next invocation of ``function`` raises ``error`` before (or after) running the real handler."""
        if when not in {"before", "after"}:
            raise ValueError(f"when must be 'before' or 'after', not {when!r}")
        with self._lock:
            self.faults.setdefault(function, []).append((when, error))

    def calls(self, function: str) -> list[Invocation]:
        """The invocations of one function (logical id), in order."""
        return [i for i in self.invocations if i.function == function]

    def dispatch(self, backend: Any, function_name: str, qualifier: Any, body: Any, response_headers: Any) -> bytes:
        """Stands in for ``LambdaSimpleBackend.invoke`` (``backend`` is moto's backend instance)."""
        function = backend.get_function(function_name, qualifier).function_name  # unknown -> moto's 404
        event = json.loads(body or "{}")
        if isinstance(event, dict) and _PROBE in event:
            return json.dumps({"dispatched": event[_PROBE]}).encode()
        handler = self._handlers.get(function)
        if handler is None:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": "ResourceNotFound", "errorMessage": f"{function} is no action"}).encode()
        invocation = Invocation(function, self.actions[function], event)
        with self._lock:
            self.invocations.append(invocation)
            fault = self.faults[function].pop(0) if self.faults.get(function) else None
        try:
            if fault is not None and fault[0] == "before":
                raise fault[1]
            output = handler(event, LocalLambdaContext(function))
            if fault is not None:
                raise fault[1]
        except Exception as exc:
            invocation.error = type(exc).__name__
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
        invocation.output = output
        return json.dumps(output).encode()

    @contextmanager
    def dispatching(self) -> Iterator[StateMachineRunner]:
        """``LambdaSimpleBackend.invoke`` dispatches to this runner's handlers until the block ends."""
        from moto.awslambda_simple.models import LambdaSimpleBackend

        runner = self

        def invoke(  # noqa: PLR0917 (moto calls it positionally)
            backend: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
        ) -> str | bytes | None:
            return runner.dispatch(backend, function_name, qualifier, body, response_headers)

        original = LambdaSimpleBackend.__dict__["invoke"]
        LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign, assignment]
        try:
            yield self
        finally:
            LambdaSimpleBackend.invoke = original  # type: ignore[method-assign]

    def verify_dispatch(self) -> None:
        """Raises unless a Lambda invoke reaches ``dispatch`` (e.g. the moto server runs in another process)."""
        function = next(iter(self.function_arns), None)
        if function is None:
            raise StepFunctionsError("create_functions() first")
        token = uuid.uuid4().hex
        response = self.lambda_client.invoke(FunctionName=function, Payload=json.dumps({_PROBE: token}).encode())
        answer = json.loads(response["Payload"].read() or b"{}")
        if answer != {"dispatched": token}:
            raise StepFunctionsError(
                "Lambda invokes do not reach the real handlers: is the moto server running in this process, "
                f"with lambda.use_docker = false? (got {answer!r})"
            )

    # -- executions

    def start(self, state_machine_arn: str, execution_input: dict[str, Any], *, name: str | None = None) -> str:
        """Start an execution (always named: moto needs it); its ARN."""
        return str(
            self.sfn.start_execution(
                stateMachineArn=state_machine_arn,
                name=name or f"run-{uuid.uuid4().hex}",
                input=json.dumps(execution_input, default=str),
            )["executionArn"]
        )

    def wait(self, arn: str, *, timeout: float = 30.0, poll: float = 0.02) -> Execution:
        """Wait until the execution is no longer RUNNING (stopping it after ``timeout`` seconds); what it did."""
        started = time.monotonic()
        while True:
            described = self.sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                break
            if time.monotonic() - started > timeout:
                self.sfn.stop_execution(executionArn=arn, error="Timeout")
                raise ExecutionTimeout(f"execution {arn} still RUNNING after {timeout} s")
            time.sleep(poll)
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

    def run(
        self,
        state_machine_arn: str,
        execution_input: dict[str, Any],
        *,
        name: str | None = None,
        timeout: float = 30.0,
        poll: float = 0.02,
    ) -> Execution:
        """Start an execution and wait until it is no longer RUNNING."""
        started = time.monotonic()
        arn = self.start(state_machine_arn, execution_input, name=name)
        execution = self.wait(arn, timeout=timeout, poll=poll)
        execution.seconds = time.monotonic() - started
        return execution

    def invocations_of(self, execution_arn: str) -> list[Invocation]:
        """The Lambda invocations one execution made, in order (every payload carries run_id = the execution)."""
        return [i for i in self.invocations if i.payload.get("run_id") == execution_arn]


# ---- the two ways to run -------------------------------------------------------------------------------------


@contextmanager
def in_process() -> Iterator[StateMachineRunner]:
    """``mock_aws`` executing state machines, the local resources provisioned, functions created, dispatching.

    The environment must already name the region and the local resources (``LOCAL_DEFAULTS``) and carry fake
    credentials, and must not set ``AWS_ENDPOINT_URL``.
    """
    from moto import mock_aws

    with mock_aws(config=MOTO_CONFIG):
        runner = StateMachineRunner(provision())
        runner.create_functions()
        with runner.dispatching():
            yield runner


def configure_server(endpoint_url: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """``POST {endpoint}/moto-api/config`` (default: execute state machines, Lambda without Docker)."""
    request = urllib.request.Request(
        f"{endpoint_url.rstrip('/')}/moto-api/config",
        data=json.dumps(config or MOTO_CONFIG).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # a local emulator
        return dict(json.loads(response.read() or b"{}"))


@contextmanager
def on_server(
    endpoint_url: str | None = None, *, resources: LocalResources | None = None, quiet: bool = True
) -> Iterator[StateMachineRunner]:
    """A moto server running in this process (default: ``AWS_ENDPOINT_URL``), configured, with the functions
    created and the invocations dispatched; the dispatch patch is removed when the block ends (the server keeps
    its config). ``quiet`` silences moto's interpreter log for the block."""
    endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        raise StepFunctionsError("no moto server: AWS_ENDPOINT_URL is not set")
    port = str(urlsplit(endpoint).port or 80)
    if os.environ.get("MOTO_PORT") != port:
        raise StepFunctionsError(
            f"MOTO_PORT must be the server's port {port} (Step Functions calls Lambda at localhost:$MOTO_PORT), "
            f"not {os.environ.get('MOTO_PORT')!r}"
        )
    configure_server(endpoint)
    runner = StateMachineRunner(resources, endpoint_url=endpoint)
    runner.create_functions()
    with runner.dispatching(), _quiet_interpreter(quiet):
        runner.verify_dispatch()
        yield runner


@contextmanager
def _quiet_interpreter(quiet: bool) -> Iterator[None]:
    """moto's ASL interpreter logs every Fail state and caught error at ERROR level (a traceback-like line on
    stderr when nothing configures logging); the execution's own ``error`` and ``cause`` say the same."""
    interpreter = logging.getLogger("moto.stepfunctions.parser")
    level = interpreter.level
    if quiet:
        interpreter.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        interpreter.setLevel(level)
