"""kubectl itself works against the sandbox cluster: get, describe, logs, rollout."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from kubernetes import client

from selfheal.chaos import inject
from tests.sandbox_kube.conftest import wait_for

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


def kubectl(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_kubectl_sees_oom_and_rolls_back(
    kubeconfig: Path, api: client.ApiClient, core: Any
) -> None:
    listing = kubectl(kubeconfig, "get", "pods", "-A")
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.split("\n")[0].split() == [
        "NAMESPACE",
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
    ]
    assert listing.stdout.count("Running") == 6

    inject(api, "oom", "demo", "checkout")

    def oom_pod() -> str | None:
        for pod in core.list_namespaced_pod("demo", label_selector="app=checkout").items:
            status = (pod.status.container_statuses or [None])[0]
            if status and status.restart_count >= 2 and status.last_state.terminated:
                return str(pod.metadata.name)
        return None

    name = wait_for(oom_pod, what="an OOMKilled pod")
    pods = kubectl(kubeconfig, "get", "pods", "-n", "demo")
    row = next(line for line in pods.stdout.splitlines() if line.startswith(name))
    assert row.split()[1] == "0/1"
    assert row.split()[2] in ("CrashLoopBackOff", "OOMKilled")

    described = kubectl(kubeconfig, "describe", "pod", name)
    assert described.returncode == 0, described.stderr
    assert "Reason:       OOMKilled" in described.stdout
    assert "Exit Code:    137" in described.stdout
    assert "Back-off restarting failed container checkout" in described.stdout

    logs = kubectl(kubeconfig, "logs", name, "--previous", "--tail=1")
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.strip() == (
        '{"level":"info","msg":"warming cart cache","entries":120000,"approx_mib":150}'
    )

    stalled = kubectl(kubeconfig, "rollout", "status", "deployment/checkout", "--timeout=1s")
    assert stalled.returncode != 0
    assert "1 out of 2 new replicas have been updated" in stalled.stdout

    undo = kubectl(kubeconfig, "rollout", "undo", "deployment/checkout")
    assert undo.returncode == 0, undo.stderr
    assert "rolled back" in undo.stdout
    done = kubectl(kubeconfig, "rollout", "status", "deployment/checkout", "--timeout=20s")
    assert done.returncode == 0, done.stdout + done.stderr
    assert 'deployment "checkout" successfully rolled out' in done.stdout

    history = kubectl(kubeconfig, "rollout", "history", "deployment/checkout")
    revisions = [line.split()[0] for line in history.stdout.splitlines()[2:] if line.strip()]
    assert revisions == ["2", "3"]
