"""What the model reads: the instructions, the redacted cluster context, and its tools.

The system prompt and the context block are rendered the same way on every turn, so they
form a stable prefix that prompt caching can reuse; everything here passes through
selfheal.redaction first, and Secret/ConfigMap values are never rendered at all.
"""

from __future__ import annotations

import json
from typing import Any

from selfheal.activities.claude.metrics_tool import metrics_tool_spec
from selfheal.activities.claude.output import submit_tool
from selfheal.activities.fixes.unfixable import NO_SAFE_FIX
from selfheal.activities.kubernetes.reads import KINDS
from selfheal.contracts.kubernetes import ClusterContext
from selfheal.model.alerts import Alert
from selfheal.model.diagnosis import DiagnosisCategory
from selfheal.redaction import redact_object, redact_text

LOG_TAIL_LINES = 30
"""Log lines per container shown up front; the model asks for more with a tool."""

_DROPPED_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
"""Annotations that repeat the whole manifest (env values included) as one JSON string."""

CATEGORIES = ", ".join(category.value for category in DiagnosisCategory)
"""The closed vocabulary as the model reads it, in the enum's order (`unknown` last)."""
UNFIXABLE = ", ".join(category.value for category in NO_SAFE_FIX)

INSTRUCTIONS = f"""\
You are selfheal's incident investigator for Kubernetes workloads. You receive the cluster \
context of one Deployment (its objects as the Kubernetes API returns them, recent events and \
log tails) and the alert that opened the incident. Find what is wrong, citing evidence.

Rules:
- Classify the failure into exactly one category: {CATEGORIES}. Use unknown when none \
fits. A healthy workload has fault_found=false.
- Evidence must quote exact status fields, event messages or log lines from the context or \
from your tools; never invent them.
- Use the tools when the context is not enough: full or previous container logs of any pod, \
events of any object, the pod template of a rollout revision, and live reads of the objects \
the workload depends on (Services, ConfigMaps, other workloads, claims) in its namespace.
- Finish by calling submit_diagnosis exactly once. Propose a fix only when it stays inside \
these changes to the same Deployment: memory or CPU resources, replicas, probe timings and \
paths, non-secret env, or rolling the image back to one the workload ran before. Otherwise \
set suggested_fix to none and say in recommendation what a person should do. These \
categories never get an automatic fix: {UNFIXABLE}.
- Values shown as [REDACTED] are secrets that were removed on purpose; do not ask for them.
"""


def system_blocks(context: ClusterContext) -> list[dict[str, Any]]:
    """Return the system prompt: instructions, then the context block marked for caching."""
    return [
        {"type": "text", "text": INSTRUCTIONS},
        {
            "type": "text",
            "text": "<cluster_context>\n" + render_context(context) + "\n</cluster_context>",
            "cache_control": {"type": "ephemeral"},
        },
    ]


def opening_message(alert: Alert) -> dict[str, Any]:
    """Return the first user message: the alert that opened the incident, redacted."""
    facts = redact_object(
        {
            "name": alert.name,
            "severity": alert.severity,
            "cluster": alert.cluster,
            "namespace": alert.namespace,
            "workload": alert.workload,
            "reason": alert.reason,
            "summary": alert.summary,
            "labels": alert.labels,
            "annotations": alert.annotations,
        }
    )
    text = (
        "An alert opened this incident:\n"
        + json.dumps(facts, indent=1, sort_keys=True)
        + "\nInvestigate the workload (it may also be healthy; alerts can be stale) and "
        "submit your diagnosis."
    )
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def render_context(context: ClusterContext) -> str:
    """Return the cluster context as redacted JSON, with Secret and ConfigMap values left out."""
    view = {
        "namespace": context.namespace,
        "workload": context.workload,
        "deployment": clean_object(context.deployment) if context.deployment else None,
        "replicasets": [_replicaset_summary(rs) for rs in context.replicasets],
        "pods": [clean_object(pod) for pod in context.pods],
        "events": [event_line(event) for event in context.events],
        "configmaps": [_keys_only(obj) for obj in context.configmaps],
        "secrets": [_keys_only(obj) for obj in context.secrets],
        "log_tails": {key: tail(text, LOG_TAIL_LINES) for key, text in context.logs.items()},
        "previous_log_tails": {
            key: tail(text, LOG_TAIL_LINES) for key, text in context.previous_logs.items()
        },
        "truncated": context.truncated,
    }
    if context.kind != "Deployment":
        # Only other kinds carry these, so a Deployment's prompt stays as it was.
        view["kind"] = context.kind
        view["controller"] = clean_object(context.controller) if context.controller else None
        view["jobs"] = [clean_object(job) for job in context.jobs]
        view["controller_revisions"] = [clean_object(r) for r in context.controller_revisions]
        view["persistent_volume_claims"] = [
            clean_object(claim) for claim in context.persistent_volume_claims
        ]
    if context.metrics is not None:
        # Only a context read with Prometheus carries them: other prompts stay as they were.
        view["metrics"] = context.metrics.model_dump(mode="json")
    return json.dumps(redact_object(view), indent=1, sort_keys=True, default=str)


def clean_object(obj: dict[str, Any]) -> dict[str, Any]:
    """Return an API object without managedFields and manifest-copy annotations, redacted."""
    metadata = dict(obj.get("metadata") or {})
    metadata.pop("managedFields", None)
    annotations = {
        key: value
        for key, value in (metadata.get("annotations") or {}).items()
        if key not in _DROPPED_ANNOTATIONS
    }
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    result: dict[str, Any] = redact_object({**obj, "metadata": metadata})
    return result


def tail(text: str, lines: int) -> str:
    """Return the last `lines` lines of `text`, redacted."""
    return redact_text("\n".join(text.splitlines()[-lines:]))


def event_line(event: dict[str, Any]) -> str:
    """Return one event as a single redacted line: when, type, object, reason, message."""
    ref = event.get("involvedObject") or event.get("regarding") or {}
    when = event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp")
    count = event.get("count") or (event.get("series") or {}).get("count") or 1
    message = str(event.get("message") or event.get("note") or "").strip()
    return redact_text(
        f"{when or '?'} {event.get('type', '?')} {ref.get('kind', '?')}/{ref.get('name', '?')} "
        f"{event.get('reason', '?')} (x{count}): {message}"
    )


def _replicaset_summary(rs: dict[str, Any]) -> dict[str, Any]:
    metadata = rs.get("metadata") or {}
    template_spec = ((rs.get("spec") or {}).get("template") or {}).get("spec") or {}
    return {
        "name": metadata.get("name"),
        "revision": (metadata.get("annotations") or {}).get("deployment.kubernetes.io/revision"),
        "created": metadata.get("creationTimestamp"),
        "replicas": (rs.get("spec") or {}).get("replicas"),
        "status": rs.get("status") or {},
        "images": {c.get("name"): c.get("image") for c in template_spec.get("containers") or []},
    }


def _keys_only(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = obj.get("metadata") or {}
    keys = sorted({*(obj.get("data") or {}), *(obj.get("stringData") or {})})
    keys += sorted(obj.get("binaryData") or {})
    return {"kind": obj.get("kind"), "name": metadata.get("name"), "keys": keys}


def investigation_tools() -> list[dict[str, Any]]:
    """Return every tool the model is offered: the read-only investigation tools, then submit."""
    return [
        {
            "name": "container_logs",
            "description": "Read a container's log (or its previous instance's log, before the "
            "last restart), redacted.",
            "input_schema": {
                "type": "object",
                "properties": {
                    "pod": {"type": "string"},
                    "container": {"type": "string"},
                    "previous": {"type": "boolean", "default": False},
                    "tail_lines": {"type": "integer", "minimum": 1, "maximum": 2000},
                    "namespace": {"type": "string"},
                },
                "required": ["pod", "container"],
            },
        },
        {
            "name": "events",
            "description": "List the events of the workload, or of one object (pod, "
            "replicaset or deployment name).",
            "input_schema": {
                "type": "object",
                "properties": {
                    "object_name": {"type": "string"},
                    "namespace": {"type": "string"},
                },
            },
        },
        {
            "name": "rollout_revision",
            "description": "Show the pod template (images, resources, probes, env) of one "
            "rollout revision of the Deployment.",
            "input_schema": {
                "type": "object",
                "properties": {"revision": {"type": "integer", "minimum": 1}},
                "required": ["revision"],
            },
        },
        {
            "name": "get_object",
            "description": "Read one object live from the cluster (the incident's namespace "
            "unless another readable one is named), redacted: e.g. the Service or ConfigMap "
            "the workload depends on, a Job, a PersistentVolumeClaim. Secrets are never "
            "readable. Kinds: " + ", ".join(KINDS) + ".",
            "input_schema": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": list(KINDS)},
                    "name": {"type": "string"},
                    "namespace": {"type": "string"},
                },
                "required": ["kind", "name"],
            },
        },
        {
            "name": "list_objects",
            "description": "List objects of one kind live (name, labels, status), optionally "
            "by label selector such as app=checkout.",
            "input_schema": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": list(KINDS)},
                    "label_selector": {"type": "string"},
                    "namespace": {"type": "string"},
                },
                "required": ["kind"],
            },
        },
        metrics_tool_spec(),
        submit_tool(),
    ]
