"""wait_rollout and verify_health tell a finished, healthy rollout from a broken one, in time."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from kubernetes import client
from temporalio.testing import ActivityEnvironment

from selfheal.activities.kubernetes.activities import KubernetesActivities
from selfheal.contracts.kubernetes import HealthCheckRequest, RolloutRequest
from tests.kubernetes.workloads import (
    CRASHING,
    MISSING,
    create,
    deployment,
    eventually,
    rolled_out,
    set_image,
)

Activities = Callable[..., KubernetesActivities]


def health(namespace: str, seconds: float) -> HealthCheckRequest:
    return HealthCheckRequest(
        incident_id="inc-1",
        namespace=namespace,
        deployment="checkout",
        window=timedelta(seconds=seconds),
    )


def rollout(namespace: str, seconds: float, expected: dict | None = None) -> RolloutRequest:
    return RolloutRequest(
        incident_id="inc-1",
        namespace=namespace,
        deployment="checkout",
        timeout=timedelta(seconds=seconds),
        expected_template=expected,
    )


def test_verify_health_reports_a_crashlooping_rollout_as_failed(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    create(api_client, namespace, deployment("checkout"))
    eventually(lambda: rolled_out(api_client, namespace, "checkout"), what="checkout rolled out")
    set_image(api_client, namespace, "checkout", CRASHING)

    report = ActivityEnvironment().run(activities().verify_health, health(namespace, 3))

    assert not report.healthy
    assert "unhealthy" in report.message and "checkout" in report.message


def test_verify_health_of_a_healthy_deployment_lasts_the_window_and_heartbeats(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    create(api_client, namespace, deployment("checkout"))
    eventually(lambda: rolled_out(api_client, namespace, "checkout"), what="checkout rolled out")
    env = ActivityEnvironment()
    beats: list[object] = []
    env.on_heartbeat = lambda *details: beats.append(details)

    started = time.monotonic()
    report = env.run(activities().verify_health, health(namespace, 1.0))

    assert report.healthy, report.message
    assert report.restarts_during_window == 0
    assert time.monotonic() - started >= 1.0
    assert beats


def test_wait_rollout_gives_up_at_its_timeout_with_the_reason(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    create(api_client, namespace, deployment("checkout"))
    eventually(lambda: rolled_out(api_client, namespace, "checkout"), what="checkout rolled out")
    set_image(api_client, namespace, "checkout", MISSING)

    started = time.monotonic()
    result = ActivityEnvironment().run(activities().wait_rollout, rollout(namespace, 1.5))

    assert not result.complete
    assert "not complete after" in result.message
    assert time.monotonic() - started < 10


def test_wait_rollout_waits_until_the_cluster_runs_the_expected_template(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    create(api_client, namespace, deployment("checkout"))
    eventually(lambda: rolled_out(api_client, namespace, "checkout"), what="checkout rolled out")
    limits = {"limits": {"memory": "512Mi"}}
    expected = {
        "spec": {"template": {"spec": {"containers": [{"name": "app", "resources": limits}]}}}
    }

    not_yet = ActivityEnvironment().run(
        activities().wait_rollout, rollout(namespace, 0.5, expected)
    )
    client.AppsV1Api(api_client).patch_namespaced_deployment("checkout", namespace, expected)
    done = ActivityEnvironment().run(activities().wait_rollout, rollout(namespace, 20, expected))

    assert not not_yet.complete and "expected template" in not_yet.message
    assert done.complete, done.message
    assert done.revision == 2


def test_wait_rollout_stops_early_when_the_progress_deadline_is_exceeded(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    # The sandbox runs progress deadlines at 1/100 speed: 100 s here pass in about 1 s.
    create(api_client, namespace, deployment("checkout", progress_deadline=100))
    eventually(lambda: rolled_out(api_client, namespace, "checkout"), what="checkout rolled out")
    set_image(api_client, namespace, "checkout", MISSING)

    started = time.monotonic()
    result = ActivityEnvironment().run(activities().wait_rollout, rollout(namespace, 30))

    assert not result.complete
    assert "exceeded its progress deadline" in result.message
    assert time.monotonic() - started < 15
