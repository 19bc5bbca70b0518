"""One OOMKilled checkout incident as the investigation sees it, with canary secrets planted.

The canaries sit where secrets really turn up: env values, Secret data, the manifest copy
in last-applied-configuration, log lines and event messages. None may reach the model.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from selfheal.contracts.claude import InvestigationRequest
from selfheal.contracts.kubernetes import ClusterContext
from selfheal.model.alerts import Alert

NAMESPACE = "shop"
WORKLOAD = "checkout"
POD = "checkout-7d9f8b6c5d-x2x9q"
MODEL = "claude-sonnet-4-6"

CANARIES = {
    "env": "cnry-env-5b1e2d",
    "env_url": "cnry-url-77aa01",
    "last_applied": "cnry-applied-9c3f",
    "secret_data": "cnry-secret-d41d8c",
    "secret_file": "cnry-file-0f0f0f",
    "log_password": "cnry-log-1234ab",
    "log_bearer": "cnryBearerToken8842",
    "previous_log": "cnry-prev-55e0aa",
    "event": "cnry-event-abcdef",
    "alert": "cnry-alert-aa11bb",
}


def _container(memory: str, image: str) -> dict[str, Any]:
    return {
        "name": "app",
        "image": image,
        "resources": {"limits": {"memory": memory}, "requests": {"memory": "32Mi"}},
        "env": [
            {"name": "DB_PASSWORD", "value": CANARIES["env"]},
            {"name": "DATABASE_URL", "value": f"postgres://app:{CANARIES['env_url']}@db:5432/shop"},
            {"name": "LOG_LEVEL", "value": "info"},
        ],
    }


def _replicaset(revision: int, image: str, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"checkout-rev{revision}",
            "namespace": NAMESPACE,
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
            "creationTimestamp": f"2025-06-0{revision}T10:00:00Z",
        },
        "spec": {
            "replicas": replicas,
            "template": {"spec": {"containers": [_container("64Mi", image)]}},
        },
        "status": {"replicas": replicas, "readyReplicas": 0},
    }


def context() -> ClusterContext:
    """Return the incident's cluster context, canaries included."""
    applied = json.dumps(
        {"spec": {"template": {"spec": {"containers": [_container("64Mi", "shop/checkout:1.4")]}}}}
    ).replace(CANARIES["env"], CANARIES["last_applied"])
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": WORKLOAD,
            "namespace": NAMESPACE,
            "annotations": {
                "deployment.kubernetes.io/revision": "2",
                "kubectl.kubernetes.io/last-applied-configuration": applied,
            },
        },
        "spec": {
            "replicas": 2,
            "template": {"spec": {"containers": [_container("64Mi", "shop/checkout:1.4")]}},
        },
        "status": {"replicas": 2, "readyReplicas": 0, "unavailableReplicas": 2},
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": POD, "namespace": NAMESPACE},
        "spec": {"containers": [_container("64Mi", "shop/checkout:1.4")]},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "app",
                    "ready": False,
                    "restartCount": 6,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
                }
            ],
        },
    }
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "checkout-db"},
        "data": {
            "password": base64.b64encode(CANARIES["secret_data"].encode()).decode(),
            "config.json": CANARIES["secret_file"],
        },
    }
    event = {
        "kind": "Event",
        "type": "Warning",
        "reason": "BackOff",
        "count": 12,
        "lastTimestamp": "2025-06-03T14:29:00Z",
        "involvedObject": {"kind": "Pod", "name": POD},
        "message": f"Back-off restarting failed container app; auth https://ci:{CANARIES['event']}@git.example.com",
    }
    return ClusterContext(
        namespace=NAMESPACE,
        workload=WORKLOAD,
        deployment=deployment,
        replicasets=[
            _replicaset(1, "shop/checkout:1.3", 0),
            _replicaset(2, "shop/checkout:1.4", 2),
        ],
        pods=[pod],
        events=[event],
        secrets=[secret],
        logs={
            f"{POD}/app": (
                "starting checkout 1.4\n"
                f"connecting with password={CANARIES['log_password']}\n"
                f"GET /cart Authorization: Bearer {CANARIES['log_bearer']}\n"
                "loading catalogue into memory\n"
            )
        },
        previous_logs={
            f"{POD}/app": (
                "loading catalogue into memory\n"
                f"db_secret={CANARIES['previous_log']}\n"
                "catalogue size 212MiB\n"
            )
        },
    )


def alert() -> Alert:
    return Alert(
        name="KubePodCrashLooping",
        namespace=NAMESPACE,
        workload=WORKLOAD,
        summary=f"checkout restarting; webhook token={CANARIES['alert']}",
    )


def request(max_turns: int = 8, max_tokens: int = 200_000) -> InvestigationRequest:
    """Return an investigation request for the incident."""
    return InvestigationRequest(
        incident_id="inc-checkout-kubepodcrashlooping-0badc0de",
        alert=alert(),
        context=context(),
        model=MODEL,
        max_turns=max_turns,
        max_tokens=max_tokens,
    )


MEMORY_PATCH = {
    "spec": {
        "template": {
            "spec": {"containers": [{"name": "app", "resources": {"limits": {"memory": "128Mi"}}}]}
        }
    }
}


def oom_submission(**changes: Any) -> dict[str, Any]:
    """Return a valid submit_diagnosis input for the incident, with `changes` applied."""
    submission: dict[str, Any] = {
        "category": "oom_killed",
        "summary": "container app is OOMKilled at its 64Mi limit while loading the catalogue",
        "evidence": [
            {
                "source": f"pod/{POD} status.containerStatuses[app].lastState",
                "detail": "terminated reason=OOMKilled exitCode=137",
            },
            {"source": f"logs/{POD}/app (previous)", "detail": "catalogue size 212MiB"},
        ],
        "confidence": 0.9,
        "containers": ["app"],
        "suggested_fix": "increase_memory",
        "recommendation": "raise the memory limit of app to 128Mi",
        "proposed_fix": {
            "kind": "increase_memory",
            "rationale": "the catalogue needs more than 64Mi",
            "manifest_patch": MEMORY_PATCH,
            "action": {"kind": "patch", "patch": MEMORY_PATCH},
        },
    }
    submission.update(changes)
    return submission
