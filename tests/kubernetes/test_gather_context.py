"""gather_context reads a failing workload as the analysis needs it, bounded and without secrets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from selfheal.activities.kubernetes.activities import KubernetesActivities
from selfheal.contracts.kubernetes import ContextRequest
from selfheal.settings import Settings
from tests.kubernetes import workloads
from tests.kubernetes.workloads import (
    CRASHING,
    config_map,
    create,
    deployment,
    eventually,
    every_pod,
    pods,
    restarts,
    secret,
)

CANARY = "canary-s3cr3t-value-7f3a91"


def request(namespace: str, workload: str, tail: int = 50) -> ContextRequest:
    return ContextRequest(
        incident_id=f"inc-{workload}-test-00000000",
        cluster="sandbox",
        namespace=namespace,
        workload=workload,
        log_tail_lines=tail,
    )


def test_crashlooping_deployment_context_has_exit_codes_events_and_previous_logs(
    api_client: client.ApiClient,
    namespace: str,
    activities: Callable[..., KubernetesActivities],
) -> None:
    create(api_client, namespace, deployment("checkout", image=CRASHING, replicas=2))
    eventually(
        lambda: every_pod(api_client, namespace, "checkout", lambda pod: restarts(pod) >= 2),
        what="every checkout container to restart twice",
    )

    context = ActivityEnvironment().run(activities().gather_context, request(namespace, "checkout"))

    assert context.deployment is not None
    assert context.deployment["spec"]["template"]["spec"]["containers"][0]["image"] == CRASHING
    assert [rs["kind"] for rs in context.replicasets] == ["ReplicaSet"]
    assert len(context.pods) == 2
    statuses = [s for pod in context.pods for s in pod["status"]["containerStatuses"]]
    terminated = [s["lastState"]["terminated"] for s in statuses if s.get("lastState")]
    assert terminated and {t["exitCode"] for t in terminated} == {1}
    assert any(e["reason"] == "BackOff" for e in context.events)
    # The crash output is in the current log while the container waits in back-off, and in
    # the previous log once it has started again; the context must carry it either way.
    logs = [*context.logs.values(), *context.previous_logs.values()]
    assert any("migration failed" in text for text in logs)
    assert set(context.previous_logs) == set(context.logs)
    assert not context.truncated


def test_context_of_200_pods_stays_under_its_bound_and_never_shows_a_secret_value(
    api_client: client.ApiClient,
    namespace: str,
    activities: Callable[..., KubernetesActivities],
) -> None:
    create(api_client, namespace, secret("checkout-db", password=CANARY))
    create(api_client, namespace, config_map("checkout-config", dsn=f"user:{CANARY}"))
    env: list[dict[str, Any]] = [
        {
            "name": "DB_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": "checkout-db", "key": "password"}},
        },
        {"name": "LEAKY_LITERAL", "value": CANARY},
    ]
    env_from = [{"configMapRef": {"name": "checkout-config"}}]
    create(
        api_client,
        namespace,
        deployment("checkout", replicas=200, image=CRASHING, env=env, env_from=env_from),
    )
    eventually(
        lambda: len(pods(api_client, namespace, "checkout")) == 200, what="200 checkout pods"
    )
    max_bytes = 64 * 1024

    context = ActivityEnvironment().run(
        activities(context_max_bytes=max_bytes).gather_context, request(namespace, "checkout")
    )

    dumped = context.model_dump_json()
    assert len(dumped.encode()) <= max_bytes
    assert CANARY not in dumped
    assert [secret["metadata"]["name"] for secret in context.secrets] == ["checkout-db"]
    assert [cm["metadata"]["name"] for cm in context.configmaps] == ["checkout-config"]
    assert context.pods, "a bounded context still shows failing pods"


def test_missing_deployment_is_a_non_retryable_deployment_not_found(
    namespace: str, activities: Callable[..., KubernetesActivities]
) -> None:
    with pytest.raises(ApplicationError) as caught:
        ActivityEnvironment().run(activities().gather_context, request(namespace, "ghost"))
    assert caught.value.type == "DeploymentNotFound"
    assert caught.value.non_retryable
    assert "ghost" in caught.value.message and namespace in caught.value.message


def test_without_kubeconfig_or_in_cluster_every_activity_says_no_cluster_is_configured() -> None:
    unconfigured = KubernetesActivities(
        Settings(kubeconfig=None, in_cluster=False, cluster="sandbox")
    )
    with pytest.raises(ApplicationError) as caught:
        ActivityEnvironment().run(unconfigured.gather_context, request("shop", "checkout"))
    assert caught.value.type == "ClusterNotConfigured"
    assert caught.value.non_retryable
    assert "KUBECONFIG" in caught.value.message


def test_unreachable_apiserver_is_a_retryable_error(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    kubeconfig = tmp_path_factory.mktemp("dead") / "kubeconfig"
    kubeconfig.write_text(workloads.kubeconfig_text("http://127.0.0.1:9"))
    dead = KubernetesActivities(Settings(kubeconfig=kubeconfig, cluster="sandbox"))
    with pytest.raises(ApplicationError) as caught:
        ActivityEnvironment().run(dead.gather_context, request("shop", "checkout"))
    assert caught.value.type == "KubernetesUnavailable"
    assert not caught.value.non_retryable
