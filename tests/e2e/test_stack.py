"""`selfheal up` on a machine where the stack already runs reuses it."""

from __future__ import annotations

import json

from kubernetes import client

from tests.e2e.stack import RunningStack


def test_up_twice_reuses_the_live_stack(sandbox_stack: RunningStack) -> None:
    before = dict(sandbox_stack.info.pids)
    again = sandbox_stack.stack.up(with_sandbox=True, with_webhook=True, env=sandbox_stack.env)
    assert again.pids == before
    recorded = json.loads(sandbox_stack.stack.layout.stack_file.read_text())
    assert set(recorded) >= {"temporal", "webhook", "kubernetes", "github", "jira", "pids"}
    assert recorded["kubernetes"]["kubeconfig"].endswith("kubeconfig")


def test_a_running_sandbox_keeps_its_alert_monitor(sandbox_stack: RunningStack) -> None:
    before = dict(sandbox_stack.info.pids)
    # Asked for the default (Prometheus when installed), the running sandbox keeps its choice.
    again = sandbox_stack.stack.up(
        with_sandbox=True, with_webhook=True, env=sandbox_stack.env, prometheus=None
    )
    assert again.pids == before and "prometheus" not in again.pids
    recorded = json.loads(sandbox_stack.stack.layout.stack_file.read_text())
    assert recorded["alerts"]["source"] == "sandbox-monitor"
    assert "prometheus" not in recorded and "alertmanager" not in recorded


def test_the_sandbox_cluster_serves_the_demo_app(sandbox_stack: RunningStack) -> None:
    core = client.CoreV1Api(sandbox_stack.kubernetes())
    pods = core.list_pod_for_all_namespaces().items
    demo = [p for p in pods if p.metadata and p.metadata.namespace == "demo"]
    apps = {p.metadata.labels.get("app") for p in demo if p.metadata and p.metadata.labels}
    assert {"checkout", "payments", "catalog"} <= apps
