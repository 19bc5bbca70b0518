"""Apply one RemediationAction to a workload, at most once per incident.

The workload (a Deployment, StatefulSet, DaemonSet or CronJob: see targets.py) is annotated
`selfheal.dev/last-remediation: <incident>/<hash of action>` in the same request that changes
it (where the API allows), so a retried activity finds its own mark and reports the earlier
result instead of changing the cluster a second time.
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
from selfheal.activities.kubernetes.members import read_members
from selfheal.activities.kubernetes.rollout import contains
from selfheal.activities.kubernetes.targets import SCALABLE, WITH_ROLLOUT, Target
from selfheal.contracts.kubernetes import RemediationRequest, RemediationResult
from selfheal.kube_objects import Obj, name_of
from selfheal.model.diagnosis import ActionKind, RemediationAction
from selfheal.settings import Settings

LAST_REMEDIATION = "selfheal.dev/last-remediation"
PREVIOUS_REVISION = "selfheal.dev/previous-revision"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
STRATEGIC_MERGE = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
REVISION_SETTLE_SECONDS = 5.0


def action_mark(incident_id: str, action: RemediationAction) -> str:
    """Return `<incident>/<12 hex>`: the mark this incident's action leaves on the workload."""
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
    target = Target.of(action)
    workload = target.read(conn)
    annotations = workload.get("metadata", {}).get("annotations") or {}
    if not undoes_own_change(request, annotations):
        check_destructive(settings, action, workload.get("spec", {}).get("replicas"))
    mark = action_mark(request.incident_id, action)
    if annotations.get(LAST_REMEDIATION) == mark:
        recorded = annotations.get(PREVIOUS_REVISION)
        return RemediationResult(
            applied=True,
            description=f"{action.kind.value} already applied for incident {request.incident_id}",
            previous_revision=int(recorded) if recorded and recorded.isdigit() else None,
            revision=target.revision(conn, workload),
        )
    previous = target.revision(conn, workload)
    marks = {LAST_REMEDIATION: mark, PREVIOUS_REVISION: str(previous or "")}
    applied, description = APPLIERS[action.kind](conn, target, workload, action, marks)
    revision = settled_revision(conn, target, previous) if applied else previous
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


def mark_only(conn: ClusterConnection, target: Target, marks: dict[str, str]) -> None:
    """Record the action's mark on a workload whose spec the action did not touch."""
    target.patch(conn, {"metadata": {"annotations": marks}}, STRATEGIC_MERGE)


def _refuse(target: Target, action: RemediationAction, why: str) -> ApplicationError:
    return ApplicationError(
        f"cannot {action.kind.value} {target}: {why}", type="InvalidAction", non_retryable=True
    )


def delete_pods(
    conn: ClusterConnection,
    target: Target,
    workload: Obj,
    action: RemediationAction,
    marks: dict[str, str],
) -> tuple[bool, str]:
    """Delete the named pods, or else the failing ones; their controller replaces them."""
    if target.kind not in WITH_ROLLOUT:
        raise _refuse(target, action, "no controller would replace its pods")
    members = read_members(conn, target.namespace, target.kind, target.name)
    live = [pod for pod in members.pods if not pod.get("metadata", {}).get("deletionTimestamp")]
    if action.pods:
        owned = {name_of(pod) for pod in members.pods}
        strangers = sorted(set(action.pods) - owned)
        if strangers:
            raise ApplicationError(
                f"pods {', '.join(strangers)} do not belong to {target}; "
                "selfheal only deletes the workload's own pods",
                type="PodNotInDeployment",
                non_retryable=True,
            )
        targets = [pod for pod in live if name_of(pod) in action.pods]
    else:
        targets = [pod for pod in live if not pod_healthy(pod)]
    if not targets:
        mark_only(conn, target, marks)
        return False, f"no failing pods of {target} to delete"
    for pod in targets:
        with kube_errors(f"deleting pod {target.namespace}/{name_of(pod)}"):
            try:
                conn.core().delete_namespaced_pod(
                    name_of(pod), target.namespace, _request_timeout=REQUEST_TIMEOUT
                )
            except ApiException as exc:
                if not is_not_found(exc):
                    raise
    mark_only(conn, target, marks)
    names = ", ".join(name_of(pod) for pod in targets)
    return True, f"deleted {len(targets)} pods of {target}: {names}"


def rollout_restart(
    conn: ClusterConnection,
    target: Target,
    workload: Obj,
    action: RemediationAction,
    marks: dict[str, str],
) -> tuple[bool, str]:
    """Restart every pod through a rolling update, as `kubectl rollout restart` does."""
    if target.kind not in WITH_ROLLOUT:
        raise _refuse(target, action, "it has no rolling update (its next run starts afresh)")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {
        "metadata": {"annotations": marks},
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}},
    }
    target.patch(conn, body, STRATEGIC_MERGE)
    return True, f"restarted {target} (rolling restart at {now})"


def scale(
    conn: ClusterConnection,
    target: Target,
    workload: Obj,
    action: RemediationAction,
    marks: dict[str, str],
) -> tuple[bool, str]:
    """Set the replica count through the scale subresource."""
    if target.kind not in SCALABLE:
        raise _refuse(target, action, "it has no replica count")
    if action.replicas is None:
        raise _refuse(target, action, "the action names no replica count")
    current = workload.get("spec", {}).get("replicas")
    if current == action.replicas:
        mark_only(conn, target, marks)
        return False, f"{target} already runs {current} replicas"
    target.scale(conn, action.replicas, STRATEGIC_MERGE)
    mark_only(conn, target, marks)
    return True, f"scaled {target} from {current} to {action.replicas} replicas"


def patch(
    conn: ClusterConnection,
    target: Target,
    workload: Obj,
    action: RemediationAction,
    marks: dict[str, str],
) -> tuple[bool, str]:
    """Apply the action's strategic-merge patch to the workload, mark included."""
    if not action.patch:
        raise _refuse(target, action, "the patch is empty")
    if contains(workload, action.patch):
        mark_only(conn, target, marks)
        return False, f"{target} already contains the patch"
    body = copy.deepcopy(action.patch)
    metadata = body.setdefault("metadata", {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}), **marks}
    target.patch(conn, body, STRATEGIC_MERGE)
    return True, f"patched {target}"


def rollback(
    conn: ClusterConnection,
    target: Target,
    workload: Obj,
    action: RemediationAction,
    marks: dict[str, str],
) -> tuple[bool, str]:
    """Put an earlier revision's pod template back, as `kubectl rollout undo --to-revision`
    does (from a ReplicaSet for a Deployment, a ControllerRevision for a StatefulSet or
    DaemonSet)."""
    history = target.history(conn)
    current = target.revision_in(workload, history) or 0
    target_revision = action.revision or max((r for r in history if r < current), default=None)
    if target_revision is None or target_revision not in history:
        listed = ", ".join(map(str, sorted(history))) or "none"
        wanted = (
            f"revision {target_revision}" if target_revision is not None else "an earlier revision"
        )
        raise ApplicationError(
            f"cannot roll back {target} to {wanted}: revisions on record are {listed}",
            type="RevisionNotFound",
            non_retryable=True,
        )
    template = history[target_revision]
    running = target.template_of(workload)
    if contains(running, template) and contains(template, running):
        mark_only(conn, target, marks)
        return False, f"{target} already runs revision {target_revision}'s template"
    operations: list[dict[str, Any]] = [
        {"op": "replace", "path": target.template_path, "value": template}
    ]
    if workload.get("metadata", {}).get("annotations"):
        operations += [
            {"op": "add", "path": f"/metadata/annotations/{_pointer(key)}", "value": value}
            for key, value in marks.items()
        ]
    else:
        operations.append({"op": "add", "path": "/metadata/annotations", "value": marks})
    target.patch(conn, operations, JSON_PATCH)
    return (
        True,
        f"rolled back {target} from revision {current} to revision {target_revision}'s template",
    )


def _pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def settled_revision(conn: ClusterConnection, target: Target, previous: int | None) -> int | None:
    """Return the workload's revision once its controller has seen the change (or None)."""
    if target.kind not in WITH_ROLLOUT:
        return None  # a CronJob keeps no revisions: its next run uses the new template
    deadline = time.monotonic() + REVISION_SETTLE_SECONDS
    while True:
        workload = target.read(conn)
        metadata, status = workload.get("metadata", {}), workload.get("status") or {}
        observed = int(status.get("observedGeneration") or 0) >= int(
            metadata.get("generation") or 0
        )
        if observed or time.monotonic() > deadline:
            return target.revision(conn, workload) if observed else None
        time.sleep(0.1)


Applier = Callable[
    [ClusterConnection, Target, Obj, RemediationAction, dict[str, str]], tuple[bool, str]
]

APPLIERS: dict[ActionKind, Applier] = {
    ActionKind.DELETE_PODS: delete_pods,
    ActionKind.ROLLOUT_RESTART: rollout_restart,
    ActionKind.SCALE: scale,
    ActionKind.PATCH: patch,
    ActionKind.ROLLBACK: rollback,
}
