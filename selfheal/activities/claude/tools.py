"""The model's investigation tools: read-only, answered from the live cluster when the
worker reaches it, else from the incident's cluster context.

Live reads are limited to the incident's namespace and the namespaces selfheal serves
(SELFHEAL_NAMESPACES), to the kinds `activities/kubernetes/reads.py` knows (never a
Secret), and every answer is redacted (ConfigMap values removed, env values and
secret-looking strings masked) and bounded. A bad request (unknown pod, a namespace out of
reach, an API refusal) is an error answer the model can correct, never a failure of the
investigation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from selfheal.activities.analysis.workload import WorkloadView
from selfheal.activities.claude.metrics_tool import query_metrics
from selfheal.activities.claude.prompt import clean_object, event_line, tail
from selfheal.activities.kubernetes.reads import KINDS, ClusterReads
from selfheal.activities.prometheus.client import PrometheusClient
from selfheal.contracts.claude import ToolAnswer, ToolCall
from selfheal.contracts.kubernetes import ClusterContext
from selfheal.kube_objects import name_of
from selfheal.snapshots import sanitize

DEFAULT_LOG_LINES = 200
MAX_LOG_LINES = 2000
MAX_ANSWER_CHARS = 40_000
"""An answer longer than this is cut (and says so): the model's context is not a log store."""


@dataclass(frozen=True)
class LiveCluster:
    """The cluster the incident is on, and the namespaces the tools may read there."""

    reads: ClusterReads
    namespaces: frozenset[str]


def answer_tool(
    call: ToolCall,
    context: ClusterContext,
    live: LiveCluster | None = None,
    prometheus: PrometheusClient | None = None,
) -> ToolAnswer:
    """Return the redacted answer to one tool call from the model."""
    answers = {
        "query_metrics": lambda arguments, _context, _live: query_metrics(arguments, prometheus),
        "container_logs": _container_logs,
        "events": _events,
        "rollout_revision": _rollout_revision,
        "get_object": _get_object,
        "list_objects": _list_objects,
    }
    answer = answers.get(call.name)
    if answer is None:
        return ToolAnswer(content=f"unknown tool {call.name!r}", is_error=True)
    try:
        found = answer(call.input, context, live)
    except KeyError as missing:
        return ToolAnswer(
            content=f"bad input for {call.name}: {missing} is required", is_error=True
        )
    except (TypeError, ValueError) as error:
        return ToolAnswer(content=f"bad input for {call.name}: {error}", is_error=True)
    except ApiException as refused:
        return ToolAnswer(
            content=f"the cluster answered {refused.status}: {refused.reason}", is_error=True
        )
    except HTTPError as unreachable:
        return ToolAnswer(content=f"the cluster did not answer: {unreachable}", is_error=True)
    return _bounded(found)


def _bounded(answer: ToolAnswer) -> ToolAnswer:
    if len(answer.content) <= MAX_ANSWER_CHARS:
        return answer
    cut = answer.content[:MAX_ANSWER_CHARS]
    return answer.model_copy(update={"content": cut + f"\n[cut at {MAX_ANSWER_CHARS} characters]"})


def _namespace(arguments: dict[str, Any], context: ClusterContext, live: LiveCluster) -> str:
    namespace = str(arguments.get("namespace") or context.namespace)
    if namespace != context.namespace and namespace not in live.namespaces:
        allowed = ", ".join(sorted({context.namespace, *live.namespaces}))
        raise ValueError(f"namespace {namespace} is out of reach; readable: {allowed}")
    return namespace


def _container_logs(
    arguments: dict[str, Any], context: ClusterContext, live: LiveCluster | None
) -> ToolAnswer:
    pod, container = str(arguments["pod"]), str(arguments["container"])
    previous = bool(arguments.get("previous", False))
    lines = min(int(arguments.get("tail_lines") or DEFAULT_LOG_LINES), MAX_LOG_LINES)
    if live is not None:
        namespace = _namespace(arguments, context, live)
        text = live.reads.logs(namespace, pod, container, previous, lines)
        return ToolAnswer(content=tail(text, lines) or "(empty log)")
    key = f"{pod}/{container}"
    logs = context.previous_logs if previous else context.logs
    if key not in logs:
        which = "previous logs" if previous else "logs"
        known = ", ".join(sorted(logs)) or "none"
        return ToolAnswer(content=f"no {which} for {key}; available: {known}", is_error=True)
    return ToolAnswer(content=tail(logs[key], lines) or "(empty log)")


def _events(
    arguments: dict[str, Any], context: ClusterContext, live: LiveCluster | None
) -> ToolAnswer:
    wanted = str(arguments.get("object_name") or "")
    if live is not None:
        events = live.reads.events(_namespace(arguments, context, live), wanted)
    else:
        events = [
            event
            for event in context.events
            if not wanted
            or (event.get("involvedObject") or event.get("regarding") or {}).get("name") == wanted
        ]
    lines = [event_line(event) for event in events]
    return ToolAnswer(content="\n".join(lines) or f"no events for {wanted or 'the workload'}")


def _rollout_revision(
    arguments: dict[str, Any], context: ClusterContext, live: LiveCluster | None
) -> ToolAnswer:
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


def _get_object(
    arguments: dict[str, Any], context: ClusterContext, live: LiveCluster | None
) -> ToolAnswer:
    if live is None:
        return _no_live_cluster()
    kind = _kind(arguments)
    found = live.reads.read(kind, _namespace(arguments, context, live), str(arguments["name"]))
    return ToolAnswer(content=_shown(found))


def _list_objects(
    arguments: dict[str, Any], context: ClusterContext, live: LiveCluster | None
) -> ToolAnswer:
    if live is None:
        return _no_live_cluster()
    kind = _kind(arguments)
    namespace = _namespace(arguments, context, live)
    found = live.reads.find(kind, namespace, str(arguments.get("label_selector") or ""))
    summary = [_summary(obj) for obj in found]
    return ToolAnswer(content=json.dumps(summary, indent=1, sort_keys=True, default=str) or "[]")


def _kind(arguments: dict[str, Any]) -> str:
    kind = str(arguments["kind"])
    if kind not in KINDS:
        raise ValueError(f"kind {kind} cannot be read; readable kinds: {', '.join(KINDS)}")
    return kind


def _shown(obj: dict[str, Any]) -> str:
    return json.dumps(clean_object(sanitize(obj)), indent=1, sort_keys=True, default=str)


def _summary(obj: dict[str, Any]) -> dict[str, Any]:
    """What a list shows of each object: its name, labels and status (get one for all)."""
    clean = sanitize(obj)
    metadata = clean.get("metadata") or {}
    return {
        "name": metadata.get("name"),
        "labels": metadata.get("labels") or {},
        "status": clean.get("status") or {},
    }


def _no_live_cluster() -> ToolAnswer:
    return ToolAnswer(
        content="this worker reads no live cluster here; use the context, events and logs",
        is_error=True,
    )
