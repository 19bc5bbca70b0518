"""wait_rollout and verify_health for StatefulSets and DaemonSets, judged as `kubectl rollout
status` judges them, on paper and on the sandbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from kubernetes import client
from temporalio.testing import ActivityEnvironment

from selfheal.activities.kubernetes.activities import KubernetesActivities
from selfheal.activities.kubernetes.set_rollouts import (
    ONLY_ROLLING_UPDATE,
    daemonset_rollout_status,
    statefulset_rollout_status,
)
from selfheal.contracts.kubernetes import HealthCheckRequest, RolloutRequest
from tests.kubernetes.workloads import (
    MISSING,
    create,
    eventually,
    pod_template,
    stateful_set,
    status_of,
)

Activities = Callable[..., KubernetesActivities]
AGENT = "ghcr.io/acme/probe:1.0"


def sts(status: dict[str, Any], rolling: dict[str, Any] | None = None, **spec: Any) -> dict:
    strategy: dict[str, Any] = {"type": "RollingUpdate"}
    if rolling is not None:
        strategy["rollingUpdate"] = rolling
    return {
        "metadata": {"name": "ledger", "generation": 2},
        "spec": {"replicas": 3, "updateStrategy": strategy, **spec},
        "status": {"observedGeneration": 2, **status},
    }


@pytest.mark.parametrize(
    ("obj", "complete", "message"),
    [
        (
            sts({"observedGeneration": 1}),
            False,
            "Waiting for statefulset spec update to be observed...",
        ),
        (sts({"readyReplicas": 1}), False, "Waiting for 2 pods to be ready..."),
        (
            sts({"readyReplicas": 3, "updatedReplicas": 1}, rolling={"partition": 0}),
            False,
            "Waiting for partitioned roll out to finish: 1 out of 3 new pods have been updated...",
        ),
        (
            sts({"readyReplicas": 3, "updatedReplicas": 2}, rolling={"partition": 1}),
            True,
            "partitioned roll out complete: 2 new pods have been updated...",
        ),
        (
            sts(
                {
                    "readyReplicas": 3,
                    "updatedReplicas": 1,
                    "currentRevision": "ledger-a",
                    "updateRevision": "ledger-b",
                }
            ),
            False,
            "waiting for statefulset rolling update to complete 1 pods at revision ledger-b...",
        ),
        (
            sts(
                {
                    "readyReplicas": 3,
                    "currentReplicas": 3,
                    "currentRevision": "ledger-b",
                    "updateRevision": "ledger-b",
                }
            ),
            True,
            "statefulset rolling update complete 3 pods at revision ledger-b...",
        ),
    ],
)
def test_statefulset_rollouts_read_as_kubectl_reads_them(
    obj: dict, complete: bool, message: str
) -> None:
    status = statefulset_rollout_status(obj)
    assert (status.complete, status.failed, status.message) == (complete, False, message)
    assert status.desired == 3


def test_only_rolling_updates_have_a_rollout_to_watch() -> None:
    on_delete = sts({"readyReplicas": 3}, updateStrategy={"type": "OnDelete"})
    assert statefulset_rollout_status(on_delete).failed
    assert statefulset_rollout_status(on_delete).message == ONLY_ROLLING_UPDATE
    daemon = {"metadata": {"name": "agent"}, "spec": {"updateStrategy": {"type": "OnDelete"}}}
    assert daemonset_rollout_status(daemon).message == ONLY_ROLLING_UPDATE


@pytest.mark.parametrize(
    ("status", "complete", "message"),
    [
        (
            {"observedGeneration": 1},
            False,
            "Waiting for daemon set spec update to be observed...",
        ),
        (
            {"desiredNumberScheduled": 3, "updatedNumberScheduled": 1, "numberAvailable": 3},
            False,
            'Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been '
            "updated...",
        ),
        (
            {"desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 2},
            False,
            'Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are '
            "available...",
        ),
        (
            {
                "desiredNumberScheduled": 3,
                "updatedNumberScheduled": 3,
                "numberAvailable": 3,
                "numberReady": 3,
            },
            True,
            'daemon set "agent" successfully rolled out',
        ),
    ],
)
def test_daemonset_rollouts_read_as_kubectl_reads_them(
    status: dict, complete: bool, message: str
) -> None:
    daemon = {
        "metadata": {"name": "agent", "generation": 2},
        "spec": {"updateStrategy": {"type": "RollingUpdate"}},
        "status": {"observedGeneration": 2, **status},
    }
    reading = daemonset_rollout_status(daemon)
    assert (reading.complete, reading.message) == (complete, message)


def rollout(namespace: str, kind: str, name: str, seconds: float, **extra: Any) -> RolloutRequest:
    return RolloutRequest(
        incident_id="inc-1",
        namespace=namespace,
        deployment=name,
        kind=kind,
        timeout=timedelta(seconds=seconds),
        **extra,
    )


def health(namespace: str, kind: str, name: str, seconds: float) -> HealthCheckRequest:
    return HealthCheckRequest(
        incident_id="inc-1",
        namespace=namespace,
        deployment=name,
        kind=kind,
        window=timedelta(seconds=seconds),
    )


def test_a_patched_statefulset_rolls_out_with_the_fix_and_stays_healthy(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    create(api_client, namespace, stateful_set("ledger", replicas=2))
    apps = client.AppsV1Api(api_client)
    eventually(
        lambda: (
            status_of(apps.read_namespaced_stateful_set("ledger", namespace), "ready_replicas") == 2
        ),
        what="ledger ready",
    )
    fix = {"spec": {"template": {"metadata": {"annotations": {"selfheal.dev/fix": "1"}}}}}
    apps.patch_namespaced_stateful_set("ledger", namespace, fix)

    rolled = ActivityEnvironment().run(
        activities().wait_rollout,
        rollout(namespace, "StatefulSet", "ledger", 20, expected_template=fix),
    )
    report = ActivityEnvironment().run(
        activities().verify_health, health(namespace, "StatefulSet", "ledger", 1)
    )

    assert rolled.complete, rolled.message
    assert "complete" in rolled.message
    template = apps.read_namespaced_stateful_set("ledger", namespace).spec.template
    assert template.metadata.annotations["selfheal.dev/fix"] == "1"
    assert report.healthy, report.message
    assert report.message.startswith(f"statefulset {namespace}/ledger healthy for 1s")
    assert (report.ready_replicas, report.desired_replicas) == (2, 2)


def test_a_statefulset_that_cannot_start_never_rolls_out_and_is_unhealthy(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    # Not a crashing image: a container with no readiness probe is Ready for the moment
    # between its start and its crash, and `kubectl rollout status` may call that complete.
    create(api_client, namespace, stateful_set("ledger", replicas=1, image=MISSING))

    rolled = ActivityEnvironment().run(
        activities().wait_rollout, rollout(namespace, "StatefulSet", "ledger", 2)
    )
    report = ActivityEnvironment().run(
        activities().verify_health, health(namespace, "StatefulSet", "ledger", 2)
    )

    assert not rolled.complete
    assert rolled.message.startswith("rollout not complete after 0:00:02: ")
    assert not report.healthy
    assert report.message.startswith(f"statefulset {namespace}/ledger unhealthy after")


def test_a_daemonset_rollout_is_watched_to_every_node(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    create(
        api_client,
        namespace,
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "log-agent"},
            "spec": {
                "selector": {"matchLabels": {"app": "log-agent"}},
                "template": pod_template(
                    {"app": "log-agent"}, containers=[{"name": "agent", "image": AGENT}]
                ),
            },
        },
    )
    fix = {"spec": {"template": {"metadata": {"annotations": {"selfheal.dev/fix": "1"}}}}}
    client.AppsV1Api(api_client).patch_namespaced_daemon_set("log-agent", namespace, fix)

    rolled = ActivityEnvironment().run(
        activities().wait_rollout,
        rollout(namespace, "DaemonSet", "log-agent", 20, expected_template=fix),
    )
    report = ActivityEnvironment().run(
        activities().verify_health, health(namespace, "DaemonSet", "log-agent", 1)
    )

    assert rolled.complete, rolled.message
    assert rolled.message == 'daemon set "log-agent" successfully rolled out'
    assert report.healthy, report.message
    assert (report.ready_replicas, report.desired_replicas) == (3, 3)
