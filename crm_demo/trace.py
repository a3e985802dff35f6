"""An execution's path, state by state, read from its Step Functions history: what went in, what came out.

Each state entered is one line (its number, name and type); under it, for a Lambda task, the action it ran
and the action's input; then what the state added to the execution's data (``+ key = value``: the keys of its
output that differ from its input), the branch a Choice took, the iterations of a Map, and how a failure ended.
Values are shortened so a line reads at a glance: ids to their first 8 and last 4 characters, long values cut.
"""

from __future__ import annotations

import json
import re
from typing import Any

from crm_dev.step_functions import Execution

UUID = re.compile(r"\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{8}([0-9a-f]{4})\b")
ARN = re.compile(r"arn:aws:states:[^\s\"']*:execution:([^\s\"':]+):([^\s\"']+)")
WIDTH = 96  # the demo prints blocks 4 spaces in, wrapping at 100


def short(value: Any, width: int = WIDTH) -> str:
    """``value`` as compact JSON, ids shortened to ``1a2b3c4d…9f00``, cut to ``width`` characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    text = ARN.sub(lambda m: f"execution {m.group(2)[:14]}…", text)
    text = UUID.sub(lambda m: f"{m.group(1)}…{m.group(2)}", text)
    text = re.sub(r"(Task token: )\S+", r"\1…", text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _json(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return text


def _added(before: Any, after: Any) -> list[tuple[str, Any]]:
    """What a state did to the data: the top-level keys whose value it set or changed, or its whole output."""
    if isinstance(before, dict) and isinstance(after, dict) and set(before) <= set(after):
        return [(key, value) for key, value in after.items() if before.get(key) != value]
    return [("", after)]


def _failure(details: dict[str, Any]) -> str:
    """An error and its cause: the action's JSON error message when the cause is a Lambda error payload."""
    cause = _json(details.get("cause"))
    if isinstance(cause, dict) and "errorMessage" in cause:
        cause = _json(cause["errorMessage"])
    if isinstance(cause, dict) and "message" in cause:
        cause = f"{cause.get('code', '')}: {cause['message']}"
    return f"{details.get('error')}" + (f" - {short(cause, WIDTH)}" if cause else "")


def _line(indent: str, prefix: str, value: Any) -> str:
    """``indent + prefix + value``, the value shortened so that the line fits in ``WIDTH``."""
    return f"{indent}{prefix}{short(value, max(24, WIDTH - len(indent) - len(prefix)))}"


def path_lines(execution: Execution, actions: dict[str, str]) -> list[str]:
    """The execution's states in order with their inputs and outputs; ``actions``: function name -> action id."""
    events = execution.history
    lines: list[str] = []
    entered: list[tuple[str, Any]] = []  # stack of (state name, input) of the states not exited yet
    number = 0
    indent = ""
    for position, event in enumerate(events):
        kind = event["type"]
        if kind.endswith("StateEntered"):
            details = event["stateEnteredEventDetails"]
            number += 1
            state_type = kind[: -len("StateEntered")]
            header = f"{indent}{number:>2} {details['name']}  ({state_type})"
            if state_type == "Choice":  # where it went, on the same line
                following = next((e for e in events[position + 1 :] if e["type"].endswith("StateEntered")), None)
                header += f" → {following['stateEnteredEventDetails']['name'] if following else '?'}"
            lines.append(header)
            entered.append((details["name"], _json(details.get("input"))))
        elif kind == "TaskScheduled":
            parameters = _json(event["taskScheduledEventDetails"].get("parameters")) or {}
            function = str(parameters.get("FunctionName", "")).rsplit(":", 1)[-1]
            payload = parameters.get("Payload") or {}
            action = actions.get(function, function)
            waits = event["taskScheduledEventDetails"].get("resource", "").endswith("waitForTaskToken")
            lines.append(_line(indent, f"     {action} in ", payload.get("input", payload)))
            if waits:
                lines.append(f"{indent}     ⏸ waits for a person's decision (the task token is in that note)")
        elif kind == "TaskSucceeded" and entered:
            output = _json(event["taskSucceededEventDetails"].get("output"))
            if isinstance(output, dict) and "Payload" not in output:  # a callback's answer (SendTaskSuccess)
                lines.append(f"{indent}     ▶ answered: SendTaskSuccess")
        elif kind == "TaskFailed":
            lines.append(_line(indent, "     ✘ ", _failure(event["taskFailedEventDetails"])))
        elif kind == "MapIterationStarted":
            index = event["mapIterationStartedEventDetails"]["index"]
            lines.append(f"{indent}     [{index}]")
            indent += "       "
        elif kind in {"MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted"}:
            indent = indent[:-7]
        elif kind.endswith("StateExited") and entered:
            _, before = entered.pop()
            after = _json(event["stateExitedEventDetails"].get("output"))
            if kind in {"ChoiceStateExited", "SucceedStateExited"}:
                continue
            added = _added(before, after)
            if not added:
                lines.append(f"{indent}     (its output changes nothing)")
            for key, value in added:
                lines.append(_line(indent, f"     + {key} = ", value) if key else _line(indent, "     = ", value))
        elif kind == "ExecutionFailed":
            lines.append(_line("", "   ✘ execution failed: ", _failure(event["executionFailedEventDetails"])))
    return lines
