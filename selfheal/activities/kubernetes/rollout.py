"""Whether a Deployment's rollout is done, judged as `kubectl rollout status` judges it; the
wait for any workload's rollout (StatefulSets' and DaemonSets' judged in set_rollouts.py)."""

from __future__ import annotations

import time
from typing import Any

from kubernetes.utils import parse_quantity

from selfheal.activities.kubernetes.client import ClusterConnection
from selfheal.activities.kubernetes.forced_rollback import evict_stuck_pods
from selfheal.activities.kubernetes.members import read_top
from selfheal.activities.kubernetes.rollout_reading import RolloutStatus
from selfheal.activities.kubernetes.set_rollouts import (
    cronjob_rollout_status,
    daemonset_rollout_status,
    statefulset_rollout_status,
)
from selfheal.activities.pause import pause
from selfheal.contracts.kubernetes import RolloutRequest, RolloutResult
from selfheal.kube_objects import Obj, revision_of

# Keys strategic merge patch uses to match list items, in the order they are tried.
MERGE_KEYS = ("name", "containerPort", "mountPath", "devicePath", "ip", "type", "topologyKey")


def rollout_status(deployment: Obj) -> RolloutStatus:
    """Return how far the Deployment's rollout has got, with kubectl's wording."""
    metadata, spec = deployment.get("metadata", {}), deployment.get("spec", {})
    status = deployment.get("status") or {}
    name = metadata.get("name", "")
    desired = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    updated = int(status.get("updatedReplicas") or 0)
    total = int(status.get("replicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    ready = int(status.get("readyReplicas") or 0)

    def reading(message: str, complete: bool = False, failed: bool = False) -> RolloutStatus:
        return RolloutStatus(complete, failed, message, desired, ready, revision_of(deployment))

    if int(metadata.get("generation") or 0) > int(status.get("observedGeneration") or 0):
        return reading(f'Waiting for deployment "{name}" spec update to be observed...')
    for condition in status.get("conditions") or []:
        if (
            condition.get("type") == "Progressing"
            and condition.get("reason") == "ProgressDeadlineExceeded"
        ):
            return reading(f'deployment "{name}" exceeded its progress deadline', failed=True)
    if updated < desired:
        return reading(
            f'Waiting for deployment "{name}" rollout to finish: '
            f"{updated} out of {desired} new replicas have been updated..."
        )
    if total > updated:
        return reading(
            f'Waiting for deployment "{name}" rollout to finish: '
            f"{total - updated} old replicas are pending termination..."
        )
    if available < updated or ready < desired:
        return reading(
            f'Waiting for deployment "{name}" rollout to finish: '
            f"{min(available, ready)} of {updated} updated replicas are available..."
        )
    return reading(f'deployment "{name}" successfully rolled out', complete=True)


def workload_rollout_status(obj: Obj, kind: str) -> RolloutStatus:
    """Return how far the rollout of a Deployment, StatefulSet, DaemonSet or CronJob has got."""
    if kind == "StatefulSet":
        return statefulset_rollout_status(obj)
    if kind == "DaemonSet":
        return daemonset_rollout_status(obj)
    if kind == "CronJob":
        return cronjob_rollout_status(obj)
    return rollout_status(obj)


def runs_template(deployment: Obj, expected: dict[str, Any]) -> bool:
    """True when the Deployment already contains `expected`, a strategic-merge patch of it.

    A patch whose `spec` names pod-spec fields (containers, volumes, ...) is read as a patch
    of the pod template rather than of the whole Deployment.
    """
    spec = expected.get("spec")
    if (
        isinstance(spec, dict)
        and spec
        and not {"template", "replicas", "strategy", "selector"} & set(spec)
    ):
        return contains(deployment.get("spec", {}).get("template", {}), expected)
    return contains(deployment, expected)


def contains(actual: Any, expected: Any) -> bool:
    """True when applying `expected` as a strategic-merge patch to `actual` would change nothing."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        for key, value in expected.items():
            if key.startswith("$"):
                continue
            if value is None:
                if actual.get(key) is not None:
                    return False
            elif not contains(actual.get(key), value):
                return False
        return True
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return False
        key = _merge_key(expected)
        if key is None:
            return len(actual) == len(expected) and all(map(contains, actual, expected))
        by_key = {item.get(key): item for item in actual if isinstance(item, dict)}
        return all(contains(by_key.get(item[key]), item) for item in expected)
    return _same_scalar(actual, expected)


def _merge_key(items: list[Any]) -> str | None:
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    return next((key for key in MERGE_KEYS if all(key in item for item in items)), None)


def _same_scalar(actual: Any, expected: Any) -> bool:
    if actual == expected:
        return True
    if actual is None or isinstance(actual, bool) or isinstance(expected, bool):
        return False
    if str(actual) == str(expected):
        return True
    try:
        # The apiserver normalises quantities: "1024Mi" comes back as "1Gi".
        return bool(parse_quantity(actual) == parse_quantity(expected))
    except ValueError:
        return False


def wait_for_rollout(
    conn: ClusterConnection, request: RolloutRequest, poll: float
) -> RolloutResult:
    """Return once the rollout is complete (with the expected template), failed, or timed out."""
    deadline = time.monotonic() + request.timeout.total_seconds()
    evicted: list[str] = []
    while True:
        workload = read_top(conn, request.namespace, request.kind, request.deployment)
        status = workload_rollout_status(workload, request.kind)
        has_fix = request.expected_template is None or runs_template(
            workload, request.expected_template
        )
        if status.failed:
            return RolloutResult(
                complete=False, message=status.message + _told(evicted), revision=status.revision
            )
        if status.complete and has_fix:
            return RolloutResult(
                complete=True, message=status.message + _told(evicted), revision=status.revision
            )
        if has_fix and request.kind == "StatefulSet":
            evicted += evict_stuck_pods(conn, request.namespace, request.deployment)
        note = (
            status.message
            if has_fix
            else f'{request.kind.lower()} "{request.deployment}" does not run the expected '
            "template yet"
        )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return RolloutResult(
                complete=False,
                message=f"rollout not complete after {request.timeout}: {note}" + _told(evicted),
                revision=status.revision,
            )
        pause(min(poll, remaining), note)


def _told(evicted: list[str]) -> str:
    if not evicted:
        return ""
    names = ", ".join(dict.fromkeys(evicted))
    return (
        f" (evicted {names}: pods the old template had broken, which the StatefulSet "
        "controller does not replace by itself)"
    )
