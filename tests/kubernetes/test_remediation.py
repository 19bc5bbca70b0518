"""apply_remediation changes the cluster as each action says, once per incident, in bounds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from kubernetes import client
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from selfheal.activities.kubernetes.activities import KubernetesActivities
from selfheal.contracts.kubernetes import HealthCheckRequest, RemediationRequest, RolloutRequest
from selfheal.model.diagnosis import ActionKind, RemediationAction
from tests.kubernetes.workloads import (
    CRASHING,
    HEALTHY,
    create,
    deployment,
    eventually,
    every_pod,
    pods,
    read,
    ready,
    restarts,
    rolled_out,
    set_image,
)

Activities = Callable[..., KubernetesActivities]


def remediate(
    acts: KubernetesActivities,
    namespace: str,
    kind: ActionKind,
    incident: str = "inc-1",
    **fields: Any,
) -> Any:
    action = RemediationAction(kind=kind, namespace=namespace, deployment="checkout", **fields)
    request = RemediationRequest(incident_id=incident, action=action)
    return ActivityEnvironment().run(acts.apply_remediation, request)


def healthy_checkout(api_client: client.ApiClient, namespace: str, **manifest: Any) -> None:
    create(api_client, namespace, deployment("checkout", **manifest))
    eventually(lambda: rolled_out(api_client, namespace, "checkout"), what="checkout rolled out")


def settle(acts: KubernetesActivities, namespace: str) -> None:
    rollout = RolloutRequest(
        incident_id="inc-1",
        namespace=namespace,
        deployment="checkout",
        timeout=timedelta(seconds=20),
    )
    result = ActivityEnvironment().run(acts.wait_rollout, rollout)
    assert result.complete, result.message


def test_patch_raising_the_memory_limit_heals_an_oom_killed_deployment(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    create(api_client, namespace, deployment("checkout", memory="64Mi"))
    eventually(
        lambda: any(
            (s.get("lastState") or {}).get("terminated", {}).get("reason") == "OOMKilled"
            for pod in pods(api_client, namespace, "checkout")
            for s in pod["status"].get("containerStatuses") or []
        ),
        what="checkout to be OOMKilled",
    )
    acts = activities()
    limit = {"limits": {"memory": "256Mi"}}
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "resources": limit}]}}}}

    result = remediate(acts, namespace, ActionKind.PATCH, patch=patch)

    assert result.applied
    assert result.previous_revision == 1 and result.revision == 2
    settle(acts, namespace)
    health = ActivityEnvironment().run(
        acts.verify_health,
        HealthCheckRequest(
            incident_id="inc-1",
            namespace=namespace,
            deployment="checkout",
            window=timedelta(seconds=1.5),
        ),
    )
    assert health.healthy, health.message
    assert health.ready_replicas == health.desired_replicas == 2


def test_rollback_returns_the_previous_template(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    healthy_checkout(api_client, namespace)
    good_template = read(api_client, namespace, "checkout")["spec"]["template"]
    set_image(api_client, namespace, "checkout", CRASHING)
    eventually(
        lambda: (
            read(api_client, namespace, "checkout")["metadata"]["annotations"].get(
                "deployment.kubernetes.io/revision"
            )
            == "2"
        ),
        what="revision 2",
    )
    acts = activities()

    result = remediate(acts, namespace, ActionKind.ROLLBACK)

    assert result.applied, result.description
    assert result.previous_revision == 2
    running = read(api_client, namespace, "checkout")["spec"]["template"]
    assert running["spec"]["containers"][0]["image"] == HEALTHY
    assert running["spec"] == good_template["spec"]
    settle(acts, namespace)


def test_rollout_restart_replaces_every_pod_once_per_incident(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    healthy_checkout(api_client, namespace)
    before = {pod["metadata"]["name"] for pod in pods(api_client, namespace, "checkout")}
    acts = activities()

    first = remediate(acts, namespace, ActionKind.ROLLOUT_RESTART)
    settle(acts, namespace)
    generation = read(api_client, namespace, "checkout")["metadata"]["generation"]
    again = remediate(acts, namespace, ActionKind.ROLLOUT_RESTART)

    assert first.applied and again.applied
    assert "already applied" in again.description
    assert again.previous_revision == first.previous_revision == 1
    assert read(api_client, namespace, "checkout")["metadata"]["generation"] == generation
    after = {pod["metadata"]["name"] for pod in pods(api_client, namespace, "checkout")}
    assert after and not after & before
    other_incident = remediate(acts, namespace, ActionKind.ROLLOUT_RESTART, incident="inc-2")
    assert other_incident.applied and "already" not in other_incident.description


def test_scale_up_adds_replicas(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    healthy_checkout(api_client, namespace)

    result = remediate(activities(), namespace, ActionKind.SCALE, replicas=4)

    assert result.applied
    assert read(api_client, namespace, "checkout")["spec"]["replicas"] == 4
    eventually(
        lambda: sum(ready(pod) for pod in pods(api_client, namespace, "checkout")) == 4,
        what="4 ready pods",
    )


def test_delete_pods_removes_the_failing_pods_and_their_replicaset_replaces_them(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    create(api_client, namespace, deployment("checkout", image=CRASHING))
    eventually(
        lambda: every_pod(api_client, namespace, "checkout", lambda pod: restarts(pod) >= 1),
        what="every checkout pod to restart",
    )
    failing = {pod["metadata"]["name"] for pod in pods(api_client, namespace, "checkout")}

    result = remediate(activities(), namespace, ActionKind.DELETE_PODS)

    assert result.applied
    assert all(name in result.description for name in failing)
    eventually(
        lambda: (
            {p["metadata"]["name"] for p in pods(api_client, namespace, "checkout")}.isdisjoint(
                failing
            )
            and len(pods(api_client, namespace, "checkout")) == 2
        ),
        what="replacement pods",
    )


def test_destructive_actions_are_refused_unless_enabled(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    healthy_checkout(api_client, namespace)
    cautious = activities(allow_destructive=False)

    refused: list[tuple[ActionKind, dict[str, Any]]] = [
        (ActionKind.DELETE_PODS, {}),
        (ActionKind.ROLLBACK, {}),
        (ActionKind.SCALE, {"replicas": 1}),
    ]
    for kind, fields in refused:
        with pytest.raises(ApplicationError) as caught:
            remediate(cautious, namespace, kind, **fields)
        assert caught.value.type == "DestructiveActionDisabled"
        assert caught.value.non_retryable
    assert read(api_client, namespace, "checkout")["spec"]["replicas"] == 2


def test_namespace_outside_the_allow_list_is_refused(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    healthy_checkout(api_client, namespace)
    elsewhere = activities(namespaces=["payments"])

    with pytest.raises(ApplicationError) as caught:
        remediate(elsewhere, namespace, ActionKind.SCALE, replicas=3)

    assert caught.value.type == "NamespaceNotAllowed"
    assert caught.value.non_retryable
    assert "SELFHEAL_NAMESPACES" in caught.value.message
    assert read(api_client, namespace, "checkout")["spec"]["replicas"] == 2


def test_kube_system_is_refused_even_when_listed(activities: Activities) -> None:
    reckless = activities(namespaces=["kube-system"])

    with pytest.raises(ApplicationError) as caught:
        remediate(reckless, "kube-system", ActionKind.ROLLOUT_RESTART)

    assert caught.value.type == "NamespaceNotAllowed"
    assert "kube-system" in caught.value.message


def test_undoing_its_own_change_needs_no_destructive_permission(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    healthy_checkout(api_client, namespace)
    cautious = activities(allow_destructive=False)
    limits = {"limits": {"memory": "512Mi"}}
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "resources": limits}]}}}}
    applied = remediate(cautious, namespace, ActionKind.PATCH, patch=patch)
    settle(cautious, namespace)

    with pytest.raises(ApplicationError):
        remediate(cautious, namespace, ActionKind.ROLLBACK, incident="inc-other", revision=1)
    undone = remediate(cautious, namespace, ActionKind.ROLLBACK, revision=applied.previous_revision)

    assert undone.applied, undone.description
    container = read(api_client, namespace, "checkout")["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["memory"] == "256Mi"
