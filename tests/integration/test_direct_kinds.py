"""Direct mode beyond Deployments: the real `selfheal worker` fixes a DaemonSet rolled to an
image that was never pushed (back to the image its own ControllerRevisions ran) and an
OOMKilled StatefulSet (a bigger memory limit on its pod template), each ending RESOLVED, on
the sandbox cluster over HTTP."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from temporalio.testing import WorkflowEnvironment

from selfheal.model.alerts import Alert, AlertSource
from selfheal.model.incident import IncidentState
from selfheal_lab.sandbox.kube import KubeSandbox, Timing
from tests.delivery import deliver
from tests.e2e.follow import wait_for_state
from tests.integration.direct_worker import direct_worker
from tests.kubernetes.workloads import kubeconfig_text

ROOT = Path(__file__).resolve().parents[2]
FAST = Timing(tick=0.05, scale=0.05)
AGENT = "registry.sandbox.local/library/fluent-bit:3.1"
NEVER_PUSHED = "registry.sandbox.local/library/fluent-bit:3.2"


@pytest.fixture
def sandbox() -> Iterator[KubeSandbox]:
    """A sandbox cluster running the demo app (ledger, log-agent among it)."""
    cluster = KubeSandbox(timing=FAST, progress_scale=0.05)
    cluster.start()
    try:
        cluster.wait_for_available(timeout=60)
        yield cluster
    finally:
        cluster.stop()


def until(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def container_states(core: k8s.CoreV1Api, app: str) -> list[dict[str, Any]]:
    pods = core.api_client.sanitize_for_serialization(
        core.list_namespaced_pod("demo", label_selector=f"app={app}").items
    )
    return [s for pod in pods for s in (pod.get("status") or {}).get("containerStatuses") or []]


def alert(name: str, kind: str, workload: str) -> Alert:
    return Alert(
        name=name,
        source=AlertSource.ALERTMANAGER,
        namespace="demo",
        workload=workload,
        kind=kind,
        severity="critical",
        external_id=f"{kind}-{workload}",
    )


async def test_a_daemonset_and_a_statefulset_are_fixed_in_place(
    dev_server_env: WorkflowEnvironment, sandbox: KubeSandbox, tmp_path: Path
) -> None:
    api = k8s.ApiClient(k8s.Configuration(host=sandbox.url))
    apps, core = k8s.AppsV1Api(api), k8s.CoreV1Api(api)
    image = {"containers": [{"name": "log-agent", "image": NEVER_PUSHED}]}
    apps.patch_namespaced_daemon_set("log-agent", "demo", {"spec": {"template": {"spec": image}}})
    memory = {"limits": {"memory": "64Mi"}, "requests": {"memory": "64Mi"}}
    starved = {"containers": [{"name": "ledger", "resources": memory}]}
    apps.patch_namespaced_stateful_set("ledger", "demo", {"spec": {"template": {"spec": starved}}})
    until(
        lambda: any(
            (s.get("state") or {}).get("waiting", {}).get("reason")
            in {"ErrImagePull", "ImagePullBackOff"}
            for s in container_states(core, "log-agent")
        ),
        "log-agent's pull to fail",
    )
    until(
        lambda: any(
            ((s.get("lastState") or {}).get("terminated") or {}).get("reason") == "OOMKilled"
            for s in container_states(core, "ledger")
        ),
        "ledger to be OOMKilled",
    )

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(kubeconfig_text(sandbox.url))
    queue = f"kinds-{uuid.uuid4().hex[:8]}"
    with direct_worker(dev_server_env, queue, kubeconfig, "sandbox"):
        client = dev_server_env.client
        where = (queue, "http://ui", "sandbox", f"{queue}-workloads")
        agent = await deliver(
            client, alert("KubeDaemonSetRolloutStuck", "DaemonSet", "log-agent"), *where
        )
        ledger = await deliver(
            client, alert("KubeContainerOOMKilled", "StatefulSet", "ledger"), *where
        )
        ended = await asyncio.gather(
            *(
                wait_for_state(
                    client, d.incident_id, {IncidentState.RESOLVED, IncidentState.ESCALATED}
                )
                for d in (agent, ledger)
            )
        )

    fixed_agent, fixed_ledger = ended
    assert fixed_agent.state == IncidentState.RESOLVED, fixed_agent.escalation_reason
    assert fixed_agent.diagnosis is not None
    assert fixed_agent.diagnosis.category.value == "image_pull"
    assert fixed_agent.fix is not None and fixed_agent.fix.kind.value == "rollback_image"
    daemon = apps.read_namespaced_daemon_set("log-agent", "demo")
    assert daemon.spec.template.spec.containers[0].image == AGENT
    assert daemon.metadata.annotations["selfheal.dev/last-remediation"].startswith(
        f"{fixed_agent.id}/"
    )

    assert fixed_ledger.state == IncidentState.RESOLVED, fixed_ledger.escalation_reason
    assert fixed_ledger.fix is not None and fixed_ledger.fix.kind.value == "increase_memory"
    sts = apps.read_namespaced_stateful_set("ledger", "demo")
    limit = sts.spec.template.spec.containers[0].resources.limits["memory"]
    assert limit not in {"64Mi", "67108864"}, limit
    assert all(s.get("ready") for s in container_states(core, "ledger"))
