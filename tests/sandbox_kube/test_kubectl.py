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
    listing = kubectl(kubeconfig, "get", "pods", "-A", "-l", "app in (checkout,payments,catalog)")
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


def test_kubectl_reads_the_demo_statefulset_daemonset_and_cronjob(kubeconfig: Path) -> None:
    rollout = kubectl(
        kubeconfig, "rollout", "status", "statefulset/ledger", "-n", "demo", "--timeout=20s"
    )
    assert rollout.returncode == 0, rollout.stdout + rollout.stderr
    # The apiserver defaults partition to 0, so kubectl reports a partitioned roll out, as on
    # a real cluster.
    assert rollout.stdout.endswith(
        "partitioned roll out complete: 2 new pods have been updated...\n"
    )
    daemon = kubectl(
        kubeconfig, "rollout", "status", "daemonset/log-agent", "-n", "demo", "--timeout=20s"
    )
    assert daemon.returncode == 0, daemon.stdout + daemon.stderr
    assert 'daemon set "log-agent" successfully rolled out' in daemon.stdout

    listing = kubectl(kubeconfig, "get", "statefulsets,daemonsets,cronjobs,pvc", "-n", "demo")
    assert listing.returncode == 0, listing.stderr
    rows = {line.split()[0]: line.split() for line in listing.stdout.splitlines() if line}
    assert rows["ledger"][1] == "2/2"
    assert rows["log-agent"][1:6] == ["3", "3", "3", "3", "3"]
    assert rows["nightly-report"][1:6] == ["0", "2", "*", "*", "*"]
    claim = rows["data-ledger-0"]
    assert claim[1] == "Bound" and claim[2].startswith("pvc-") and claim[5] == "standard"

    described = kubectl(kubeconfig, "describe", "statefulset", "ledger", "-n", "demo")
    assert described.returncode == 0, described.stderr
    assert "2 Running / 0 Waiting / 0 Succeeded / 0 Failed" in described.stdout
    assert "create Claim data-ledger-0 Pod ledger-0 in StatefulSet ledger success" in (
        described.stdout
    )
    classes = kubectl(kubeconfig, "get", "storageclass")
    assert "standard (default)" in classes.stdout
