"""Whose logs the context reads: every pod of a small workload (a dependency outage shows in
healthy pods' logs), and of a large one the failing pods first with a few healthy ones."""

from __future__ import annotations

from typing import Any

from selfheal.activities.kubernetes.context import (
    MAX_HEALTHY_LOG_PODS,
    MAX_LOG_PODS,
    pods_worth_logs,
)


def pod(name: str, healthy: bool, restarts: int = 0) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "status": {
            "conditions": [{"type": "Ready", "status": "True" if healthy else "False"}],
            "containerStatuses": [{"restartCount": 0 if healthy else restarts}],
        },
    }


def names(pods: list[dict[str, Any]]) -> list[str]:
    return [p["metadata"]["name"] for p in pods]


def test_every_pod_of_a_small_workload_is_read_failing_first() -> None:
    pods = [pod(f"ok-{i}", True) for i in range(5)] + [pod("bad", False, 3)]
    assert names(pods_worth_logs(pods)) == ["bad", "ok-0", "ok-1", "ok-2", "ok-3", "ok-4"]


def test_a_large_workload_reads_the_failing_pods_and_a_few_healthy_ones() -> None:
    failing = [pod(f"bad-{i}", False, restarts=i) for i in range(200)]
    healthy = [pod(f"ok-{i}", True) for i in range(200)]
    chosen = names(pods_worth_logs(failing + healthy))
    assert len(chosen) == MAX_LOG_PODS
    assert chosen[0] == "bad-199", "the most restarted first"
    assert sum(name.startswith("ok-") for name in chosen) == MAX_HEALTHY_LOG_PODS
    all_healthy = pods_worth_logs(healthy)
    assert len(all_healthy) == MAX_LOG_PODS, "a healthy workload's logs are read too"
