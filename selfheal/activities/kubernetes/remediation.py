"""Apply one RemediationAction to a Deployment, at most once per incident.

The Deployment is annotated `selfheal.dev/last-remediation: <incident>/<hash of action>` in
the same request that changes it (where the API allows), so a retried activity finds its
own mark and reports the earlier result instead of changing the cluster a second time.
"""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubernetes.client.exceptions import ApiException
from temporalio.exceptions import ApplicationError

from selfheal.activities.kubernetes.client import (
    REQUEST_TIMEOUT,
    ClusterConnection,
    is_not_found,
    kube_errors,
)
from selfheal.activities.kubernetes.context import pod_healthy
from selfheal.activities.kubernetes.guardrails import check_destructive, check_namespace
from selfheal.activities.kubernetes.rollout import contains
from selfheal.activities.kubernetes.workload import read_deployment, read_workload
from selfheal.contracts.kubernetes import RemediationRequest, RemediationResult
from selfheal.kube_objects import Obj, name_of, revision_of
from selfheal.model.diagnosis import ActionKind, RemediationAction
from selfheal.settings import Settings

LAST_REMEDIATION = "selfheal.dev/last-remediation"
PREVIOUS_REVISION = "selfheal.dev/previous-revision"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
STRATEGIC_MERGE = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
REVISION_SETTLE_SECONDS = 5.0


def action_mark(incident_id: str, action: RemediationAction) -> str:
    """Return `<incident>/<12 hex>`: the mark this incident's action leaves on the Deployment."""
    digest = hashlib.sha256(action.model_dump_json().encode()).hexdigest()[:12]
    return f"{incident_id}/{digest}"


def apply_remediation(
    conn: ClusterConnection, settings: Settings, request: RemediationRequest
) -> RemediationResult:
    """Apply the action after the guardrails pass; return what changed and the revisions."""
    action = request.action
    check_namespace(settings, action.namespace)
    if action.kind == ActionKind.NONE:
        return RemediationResult(applied=False, description="no action to apply: a person must act")
    if action.workload_kind != "Deployment":
        raise ApplicationError(
            f"direct changes reach Deployments only, not {action.workload_kind} "
            f"{action.namespace}/{action.deployment}: apply the manifest patch instead",
            type="UnsupportedWorkloadKind",
            non_retryable=True,
        )
    deployment = read_deployment(conn, action.namespace, action.deployment)
    annotations = deployment.get("metadata", {}).get("annotations") or {}
    if not undoes_own_change(request, annotations):
        check_destructive(settings, action, deployment.get("spec", {}).get("replicas"))
    mark = action_mark(request.incident_id, action)
    if annotations.get(LAST_REMEDIATION) == mark:
        recorded = annotations.get(PREVIOUS_REVISION)
        return RemediationResult(
            applied=True,
            description=f"{action.kind.value} already applied for incident {request.incident_id}",
            previous_revision=int(recorded) if recorded and recorded.isdigit() else None,
            revision=revision_of(deployment),
        )
    previous = revision_of(deployment)
    marks = {LAST_REMEDIATION: mark, PREVIOUS_REVISION: str(previous or "")}
    applied, description = APPLIERS[action.kind](conn, deployment, action, marks)
    revision = settled_revision(conn, action, previous) if applied else previous
    return RemediationResult(
        applied=applied, description=description, previous_revision=previous, revision=revision
    )


def undoes_own_change(request: RemediationRequest, annotations: dict[str, str]) -> bool:
    """True for a rollback to the revision this incident's own last change started from.

    Putting back what selfheal itself changed restores the owner's state, so it needs no
    permission for destructive actions.
    """
    action = request.action
    return (
        action.kind == ActionKind.ROLLBACK
        and action.revision is not None
        and annotations.get(LAST_REMEDIATION, "").startswith(f"{request.incident_id}/")
        and annotations.get(PREVIOUS_REVISION) == str(action.revision)
    )


def _where(action: RemediationAction) -> str:
    return f"deployment {action.namespace}/{action.deployment}"


def patch_deployment(
    conn: ClusterConnection,
    action: RemediationAction,
    body: Any,
    content_type: str = STRATEGIC_MERGE,
) -> None:
    """Send one patch of the action's Deployment."""
    with kube_errors(f"patching {_where(action)}"):
        conn.apps().patch_namespaced_deployment(
            action.deployment,
            action.namespace,
            body,
            _content_type=content_type,
            _request_timeout=REQUEST_TIMEOUT,
        )


def mark_only(conn: ClusterConnection, action: RemediationAction, marks: dict[str, str]) -> None:
    """Record the action's mark on a Deployment whose spec the action did not touch."""
    patch_deployment(conn, action, {"metadata": {"annotations": marks}})


def delete_pods(
    conn: ClusterConnection, deployment: Obj, action: RemediationAction, marks: dict[str, str]
) -> tuple[bool, str]:
    """Delete the named pods, or else the failing ones; their ReplicaSet replaces them."""
    workload = read_workload(conn, action.namespace, action.deployment)
    live = [pod for pod in workload.pods if not pod.get("metadata", {}).get("deletionTimestamp")]
    if action.pods:
        owned = {name_of(pod) for pod in workload.pods}
        strangers = sorted(set(action.pods) - owned)
        if strangers:
            raise ApplicationError(
                f"pods {', '.join(strangers)} do not belong to {_where(action)}; "
                "selfheal only deletes the deployment's own pods",
                type="PodNotInDeployment",
                non_retryable=True,
            )
        targets = [pod for pod in live if name_of(pod) in action.pods]
    else:
        targets = [pod for pod in live if not pod_healthy(pod)]
    if not targets:
        mark_only(conn, action, marks)
        return False, f"no failing pods of {_where(action)} to delete"
    for pod in targets:
        with kube_errors(f"deleting pod {action.namespace}/{name_of(pod)}"):
            try:
                conn.core().delete_namespaced_pod(
                    name_of(pod), action.namespace, _request_timeout=REQUEST_TIMEOUT
                )
            except ApiException as exc:
                if not is_not_found(exc):
                    raise
    mark_only(conn, action, marks)
    names = ", ".join(name_of(pod) for pod in targets)
    return True, f"deleted {len(targets)} pods of {_where(action)}: {names}"


def rollout_restart(
    conn: ClusterConnection, deployment: Obj, action: RemediationAction, marks: dict[str, str]
) -> tuple[bool, str]:
    """Restart every pod through a rolling update, as `kubectl rollout restart` does."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    patch_deployment(
        conn,
        action,
        {
            "metadata": {"annotations": marks},
            "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}},
        },
    )
    return True, f"restarted {_where(action)} (rolling restart at {now})"


def scale(
    conn: ClusterConnection, deployment: Obj, action: RemediationAction, marks: dict[str, str]
) -> tuple[bool, str]:
    """Set the replica count through the scale subresource."""
    if action.replicas is None:
        raise ApplicationError(
            f"scale of {_where(action)} names no replica count",
            type="InvalidAction",
            non_retryable=True,
        )
    current = deployment.get("spec", {}).get("replicas")
    if current == action.replicas:
        mark_only(conn, action, marks)
        return False, f"{_where(action)} already runs {current} replicas"
    with kube_errors(f"scaling {_where(action)}"):
        conn.apps().patch_namespaced_deployment_scale(
            action.deployment,
            action.namespace,
            {"spec": {"replicas": action.replicas}},
            _content_type=STRATEGIC_MERGE,
            _request_timeout=REQUEST_TIMEOUT,
        )
    mark_only(conn, action, marks)
    return True, f"scaled {_where(action)} from {current} to {action.replicas} replicas"


def patch(
    conn: ClusterConnection, deployment: Obj, action: RemediationAction, marks: dict[str, str]
) -> tuple[bool, str]:
    """Apply the action's strategic-merge patch to the Deployment, mark included."""
    if not action.patch:
        raise ApplicationError(
            f"patch of {_where(action)} is empty", type="InvalidAction", non_retryable=True
        )
    if contains(deployment, action.patch):
        mark_only(conn, action, marks)
        return False, f"{_where(action)} already contains the patch"
    body = copy.deepcopy(action.patch)
    metadata = body.setdefault("metadata", {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}), **marks}
    patch_deployment(conn, action, body)
    return True, f"patched {_where(action)}"


def rollback(
    conn: ClusterConnection, deployment: Obj, action: RemediationAction, marks: dict[str, str]
) -> tuple[bool, str]:
    """Put an earlier revision's pod template back, as `kubectl rollout undo --to-revision` does."""
    workload = read_workload(conn, action.namespace, action.deployment)
    current = revision_of(workload.deployment) or 0
    revisions = sorted(r for rs in workload.replicasets if (r := revision_of(rs)) is not None)
    target = action.revision or max((r for r in revisions if r < current), default=None)
    source = workload.replicaset_at(target) if target is not None else None
    if target is None or source is None:
        listed = ", ".join(map(str, revisions)) or "none"
        wanted = f"revision {target}" if target is not None else "an earlier revision"
        raise ApplicationError(
            f"cannot roll back {_where(action)} to {wanted}: revisions on record are {listed}",
            type="RevisionNotFound",
            non_retryable=True,
        )
    template = copy.deepcopy(source.get("spec", {}).get("template", {}))
    (template.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
    running = workload.deployment.get("spec", {}).get("template", {})
    if contains(running, template) and contains(template, running):
        mark_only(conn, action, marks)
        return False, f"{_where(action)} already runs revision {target}'s template"
    operations: list[dict[str, Any]] = [
        {"op": "replace", "path": "/spec/template", "value": template}
    ]
    if workload.deployment.get("metadata", {}).get("annotations"):
        operations += [
            {"op": "add", "path": f"/metadata/annotations/{_pointer(key)}", "value": value}
            for key, value in marks.items()
        ]
    else:
        operations.append({"op": "add", "path": "/metadata/annotations", "value": marks})
    patch_deployment(conn, action, operations, JSON_PATCH)
    return (
        True,
        f"rolled back {_where(action)} from revision {current} to revision {target}'s template",
    )


def _pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def settled_revision(
    conn: ClusterConnection, action: RemediationAction, previous: int | None
) -> int | None:
    """Return the Deployment's revision once its controller has seen the change (or None)."""
    deadline = time.monotonic() + REVISION_SETTLE_SECONDS
    while True:
        deployment = read_deployment(conn, action.namespace, action.deployment)
        metadata, status = deployment.get("metadata", {}), deployment.get("status") or {}
        observed = int(status.get("observedGeneration") or 0) >= int(
            metadata.get("generation") or 0
        )
        if observed or time.monotonic() > deadline:
            return revision_of(deployment) if observed else None
        time.sleep(0.1)


Applier = Callable[[ClusterConnection, Obj, RemediationAction, dict[str, str]], tuple[bool, str]]

APPLIERS: dict[ActionKind, Applier] = {
    ActionKind.DELETE_PODS: delete_pods,
    ActionKind.ROLLOUT_RESTART: rollout_restart,
    ActionKind.SCALE: scale,
    ActionKind.PATCH: patch,
    ActionKind.ROLLBACK: rollback,
}
