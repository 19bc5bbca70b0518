"""DaemonSets through the official client: one pod per node, rolling one node at a time."""

from __future__ import annotations

from typing import Any

from selfheal_lab.sandbox.kube.nodes import NODE_NAMES
from tests.sandbox_kube.conftest import wait_for

NS = "demo"


def number_ready(apps: Any, name: str) -> int:
    status = apps.read_namespaced_daemon_set(name, NS).status
    return int((status.number_ready or 0) if status else 0)


def agents(core: Any) -> list[Any]:
    return list(core.list_namespaced_pod(NS, label_selector="app=log-agent").items)


def test_demo_log_agent_runs_one_pod_on_every_node(core: Any, apps: Any) -> None:
    wait_for(
        lambda: number_ready(apps, "log-agent") == 3,
        what="log-agent ready on every node",
    )
    status = apps.read_namespaced_daemon_set("log-agent", NS).status
    assert status.desired_number_scheduled == 3
    assert status.current_number_scheduled == 3
    assert status.updated_number_scheduled == 3
    assert status.number_available == 3
    assert status.number_misscheduled == 0
    pods = agents(core)
    assert sorted(p.spec.node_name for p in pods) == sorted(NODE_NAMES)
    events = core.list_namespaced_event(
        NS, field_selector="involvedObject.kind=DaemonSet,involvedObject.name=log-agent"
    ).items
    created = {e.message for e in events if e.reason == "SuccessfulCreate"}
    assert created == {f"Created pod: {p.metadata.name}" for p in pods}
    assert all(e.source.component == "daemonset-controller" for e in events)


def test_node_selector_limits_the_nodes(core: Any, apps: Any) -> None:
    apps.create_namespaced_daemon_set(
        NS,
        {
            "metadata": {"name": "probe"},
            "spec": {
                "selector": {"matchLabels": {"app": "probe"}},
                "template": {
                    "metadata": {"labels": {"app": "probe"}},
                    "spec": {
                        "nodeSelector": {"kubernetes.io/hostname": "sandbox-worker2"},
                        "containers": [{"name": "probe", "image": "ghcr.io/acme/probe:1.0"}],
                    },
                },
            },
        },
    )
    wait_for(
        lambda: number_ready(apps, "probe") == 1,
        what="one probe pod ready",
    )
    pods = core.list_namespaced_pod(NS, label_selector="app=probe").items
    assert [p.spec.node_name for p in pods] == ["sandbox-worker2"]
    assert apps.read_namespaced_daemon_set("probe", NS).status.desired_number_scheduled == 1


def test_rolling_update_keeps_at_most_one_node_unavailable(core: Any, apps: Any) -> None:
    wait_for(
        lambda: number_ready(apps, "log-agent") == 3,
        what="log-agent ready",
    )
    old = {p.metadata.name for p in agents(core)}
    apps.patch_namespaced_daemon_set(
        "log-agent",
        NS,
        {"spec": {"template": {"metadata": {"annotations": {"rolled": "yes"}}}}},
    )
    worst = 0

    def rolled() -> bool:
        nonlocal worst
        pods = [p for p in agents(core) if p.metadata.deletion_timestamp is None]
        ready_nodes = {
            p.spec.node_name
            for p in pods
            if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
        }
        worst = max(worst, len(NODE_NAMES) - len(ready_nodes))
        status = apps.read_namespaced_daemon_set("log-agent", NS).status
        return bool(
            status.updated_number_scheduled == 3
            and status.number_available == 3
            and not old & {p.metadata.name for p in pods}
        )

    wait_for(rolled, timeout=20, what="log-agent rolled out")
    assert worst <= 1, "the rollout should replace one node's pod at a time"
    pods = agents(core)
    assert len(pods) == 3
    assert all(p.metadata.annotations["rolled"] == "yes" for p in pods)
