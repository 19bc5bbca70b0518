"""`selfheal snapshot --workload KIND/NAME` and live `selfheal diagnose --workload`, as a user
runs them against the sandbox cluster: a StatefulSet starved of memory is captured and
diagnosed as a StatefulSet."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from selfheal_lab.sandbox.kube import KubeSandbox, Timing

ROOT = Path(__file__).resolve().parents[2]


def selfheal(*args: str, kubeconfig: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "selfheal", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
        cwd=ROOT,
    )


@pytest.fixture
def starved_ledger(tmp_path: Path) -> Iterator[Path]:
    """A sandbox whose StatefulSet ledger (working set about 90Mi) has a 64Mi limit; yields
    its kubeconfig once ledger has been OOMKilled."""
    sandbox = KubeSandbox(timing=Timing(tick=0.05, scale=0.02))
    sandbox.start()
    try:
        kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
        sandbox.wait_for_available()
        api = client.ApiClient(client.Configuration(host=sandbox.url))
        limits = {"limits": {"memory": "64Mi"}, "requests": {"memory": "64Mi"}}
        patch = {"spec": {"containers": [{"name": "ledger", "resources": limits}]}}
        client.AppsV1Api(api).patch_namespaced_stateful_set(
            "ledger", "demo", {"spec": {"template": patch}}
        )
        core = client.CoreV1Api(api)
        deadline = time.monotonic() + 60
        while not any(
            (status.last_state and status.last_state.terminated)
            and status.last_state.terminated.reason == "OOMKilled"
            for pod in core.list_namespaced_pod("demo", label_selector="app=ledger").items
            for status in (pod.status.container_statuses or [])
        ):
            assert time.monotonic() < deadline, "ledger never OOMKilled"
            time.sleep(0.2)
        yield kubeconfig
    finally:
        sandbox.stop()


def test_a_statefulset_is_captured_and_diagnosed_live_and_from_its_snapshot(
    starved_ledger: Path, tmp_path: Path
) -> None:
    out = tmp_path / "snapshot"
    captured = selfheal(
        "snapshot",
        "-n",
        "demo",
        "--workload",
        "statefulset/ledger",
        "--out",
        str(out),
        kubeconfig=starved_ledger,
    )
    live = selfheal(
        "diagnose",
        "-n",
        "demo",
        "--workload",
        "StatefulSet/ledger",
        "--json",
        kubeconfig=starved_ledger,
    )
    offline = selfheal("diagnose", "--snapshot", str(out), "--json", kubeconfig=starved_ledger)

    assert captured.returncode == 0, captured.stderr
    kinds = {
        line.split(":", 1)[1].strip()
        for line in (out / "objects.yaml").read_text().splitlines()
        if line.strip().startswith("kind:")
    }
    assert {"StatefulSet", "ControllerRevision", "Pod", "PersistentVolumeClaim"} <= kinds
    for result in (live, offline):
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["workload"] == {"kind": "StatefulSet", "namespace": "demo", "name": "ledger"}
        assert report["category"] == "oom_killed"
        assert report["fix"]["kind"] == "increase_memory"
        assert report["fix"]["workload_kind"] == "StatefulSet"


def test_snapshot_needs_exactly_one_workload_and_a_kind(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"  # never read: the arguments are refused first
    neither = selfheal("snapshot", "-n", "demo", "--out", str(tmp_path), kubeconfig=kubeconfig)
    both = selfheal(
        "snapshot",
        "-n",
        "demo",
        "-d",
        "checkout",
        "-w",
        "deployment/checkout",
        "--out",
        str(tmp_path),
        kubeconfig=kubeconfig,
    )
    no_kind = selfheal(
        "snapshot", "-n", "demo", "-w", "ledger", "--out", str(tmp_path), kubeconfig=kubeconfig
    )
    for refused in (neither, both, no_kind):
        assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "--workload KIND/NAME, or --deployment NAME" in neither.stderr
    assert "statefulset/ledger" in no_kind.stderr
