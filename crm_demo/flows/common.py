"""What the flows share: start an execution, count its Lambda calls, print its path and result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crm_demo.stage import Stage
from crm_demo.trace import path_lines, short
from crm_dev.step_functions import STATE_MACHINES, Execution, Invocation, StateMachineRunner

ENVELOPE = ("tenant_id", "actor_user_id")


def create(stage: Stage, runner: StateMachineRunner, file_name: str) -> str:
    """The state machine of ``statemachines/<file_name>`` created in the emulator, its substitutions shown."""
    definition = STATE_MACHINES / file_name
    resource = runner.state_machines[definition.resolve()]
    machine = runner.create_state_machine(definition, name=f"{resource.logical_id}-{stage.run_id}")
    functions = ", ".join(runner.actions[f] for f in resource.substitutions.values())
    stage.show(
        f"statemachines/{file_name} as {resource.logical_id} (template.yaml)",
        [stage.dim(f"its Lambda tasks run {functions}")],
    )
    return machine


def account(stage: Stage, runner: StateMachineRunner, execution_arn: str) -> list[Invocation]:
    """The execution's Lambda calls, counted in the demo's summary like the scenes' own calls."""
    tasks = runner.invocations_of(execution_arn)
    stage.calls += len(tasks)
    stage.failures += sum(1 for t in tasks if t.error)
    return tasks


def run(
    stage: Stage, runner: StateMachineRunner, machine: str, name: str, execution_input: dict[str, Any]
) -> tuple[Execution, list[Invocation]]:
    """One execution, to its end."""
    execution = runner.run(machine, execution_input, name=f"{stage.run_id}-{name}")
    return execution, account(stage, runner, execution.arn)


def result(stage: Stage, execution: Execution) -> str:
    """How the execution ended: its output, or its error and cause."""
    if execution.status == "SUCCEEDED":
        return stage.ok(f"SUCCEEDED  output {short(execution.output, 72)}")
    return stage.failed(f"{execution.status}  error {execution.error}")


def show(
    stage: Stage,
    runner: StateMachineRunner,
    title: str,
    execution: Execution,
    execution_input: dict[str, Any],
    *,
    extra: list[str] | None = None,
) -> None:
    """A block: the input (without the envelope), the path state by state, the result, what else it showed."""
    given = {k: v for k, v in execution_input.items() if k not in ENVELOPE}
    name = execution.arn.rsplit(":", 1)[-1]
    lines = [
        stage.dim(f"execution {name}"),
        f"input {short(given, 90)}",
        *path_lines(execution, runner.actions),
        result(stage, execution),
        *(extra or []),
        stage.dim(f"{execution.seconds:.2f} s"),
    ]
    stage.show(title, lines)


def output_folder() -> Path:
    """Where the demo writes the quote PDFs and the sent emails."""
    from crm_demo.scenes.quotes import OUTPUT

    return OUTPUT
