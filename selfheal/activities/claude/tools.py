"""The model's investigation tools, answered from the incident's cluster context.

Each answer is redacted before it is returned. A bad request (unknown pod, missing
revision) is an error answer the model can correct, not a failure of the investigation.
"""

from __future__ import annotations

import json
from typing import Any

from selfheal.activities.analysis.workload import WorkloadView
from selfheal.activities.claude.prompt import clean_object, event_line, tail
from selfheal.contracts.claude import ToolAnswer, ToolCall
from selfheal.contracts.kubernetes import ClusterContext
from selfheal.kube_objects import name_of

DEFAULT_LOG_LINES = 200
MAX_LOG_LINES = 2000


def answer_tool(call: ToolCall, context: ClusterContext) -> ToolAnswer:
    """Return the redacted answer to one tool call from the model."""
    answers = {
        "container_logs": _container_logs,
        "events": _events,
        "rollout_revision": _rollout_revision,
    }
    answer = answers.get(call.name)
    if answer is None:
        return ToolAnswer(content=f"unknown tool {call.name!r}", is_error=True)
    try:
        return answer(call.input, context)
    except KeyError as missing:
        problem = f"bad input for {call.name}: {missing} is required"
        return ToolAnswer(content=problem, is_error=True)
    except (TypeError, ValueError) as error:
        return ToolAnswer(content=f"bad input for {call.name}: {error}", is_error=True)


def _container_logs(arguments: dict[str, Any], context: ClusterContext) -> ToolAnswer:
    key = f"{arguments['pod']}/{arguments['container']}"
    previous = bool(arguments.get("previous", False))
    lines = min(int(arguments.get("tail_lines") or DEFAULT_LOG_LINES), MAX_LOG_LINES)
    logs = context.previous_logs if previous else context.logs
    if key not in logs:
        which = "previous logs" if previous else "logs"
        known = ", ".join(sorted(logs)) or "none"
        return ToolAnswer(content=f"no {which} for {key}; available: {known}", is_error=True)
    return ToolAnswer(content=tail(logs[key], lines) or "(empty log)")


def _events(arguments: dict[str, Any], context: ClusterContext) -> ToolAnswer:
    wanted = arguments.get("object_name")
    lines = [
        event_line(event)
        for event in context.events
        if not wanted
        or (event.get("involvedObject") or event.get("regarding") or {}).get("name") == wanted
    ]
    return ToolAnswer(content="\n".join(lines) or f"no events for {wanted or 'the workload'}")


def _rollout_revision(arguments: dict[str, Any], context: ClusterContext) -> ToolAnswer:
    number = int(arguments["revision"])
    revisions = WorkloadView(context).revisions
    revision = next((r for r in revisions if r.number == number), None)
    if revision is None:
        known = ", ".join(str(r.number) for r in revisions) or "none"
        return ToolAnswer(content=f"no revision {number}; known: {known}", is_error=True)
    shown = {
        "revision": number,
        "replicaset": name_of(revision.replicaset),
        "template": clean_object(revision.template),
    }
    return ToolAnswer(content=json.dumps(shown, indent=1, sort_keys=True, default=str))
