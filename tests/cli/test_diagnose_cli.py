"""`selfheal snapshot` then `selfheal diagnose --snapshot --json`, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from selfheal.chaos.injection import inject
from selfheal.chaos.scenarios import get_scenario, list_scenarios
from selfheal_lab.sandbox.kube import KubeSandbox, Timing

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests" / "scenarios"


def selfheal(*args: str, kubeconfig: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"KUBECONFIG": str(kubeconfig)} if kubeconfig else {})}
    return subprocess.run(
        [sys.executable, "-m", "selfheal", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )


def test_diagnose_json_names_category_summary_confidence_evidence_and_fix() -> None:
    snapshot = SCENARIOS / "oom_killed" / "sandbox_oom"
    result = selfheal("diagnose", "--snapshot", str(snapshot), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    expected = yaml.safe_load((snapshot / "expected.yaml").read_text())
    assert report["category"] == expected["category"]
    assert report["fix"]["kind"] == expected["fix"]
    assert report["summary"] and 0 < report["confidence"] <= 1 and report["evidence"]


# `selfheal snapshot` reads Deployments only; the other kinds' scenarios are run end to end.
# A scenario seen in the metrics only needs a Prometheus beside the sandbox: tests/prometheus.
@pytest.mark.parametrize(
    "scenario",
    [
        s["name"]
        for s in list_scenarios()
        if s["kind"] == "Deployment" and not get_scenario(s["name"]).metrics_only
    ],
)
def test_snapshot_of_each_chaos_scenario_diagnoses_to_the_catalogue(
    scenario: str, tmp_path: Path
) -> None:
    expected = next(s for s in list_scenarios() if s["name"] == scenario)
    # A tenth of the progress deadlines: rollout-stuck's 30s become 3s, the default 600s
    # (60s) stay beyond this test's wait, so no other scenario times out its rollout.
    sandbox = KubeSandbox(timing=Timing(tick=0.05, scale=0.02), progress_scale=0.1)
    sandbox.start()
    try:
        kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
        sandbox.wait_for_available()
        api = client.ApiClient(client.Configuration(host=sandbox.url))
        injected = inject(api, scenario)
        out = tmp_path / "snapshot"
        deadline = time.monotonic() + 30
        while True:
            captured = selfheal(
                "snapshot",
                "--namespace",
                injected.namespace,
                "--deployment",
                injected.workload,
                "--out",
                str(out),
                kubeconfig=kubeconfig,
            )
            assert captured.returncode == 0, captured.stderr
            diagnosed = selfheal("diagnose", "--snapshot", str(out), "--json")
            assert diagnosed.returncode == 0, diagnosed.stderr
            report = json.loads(diagnosed.stdout)
            if report["category"] == expected["category"] or time.monotonic() > deadline:
                break
            time.sleep(1)  # the failure is still developing in the simulated kubelet
        assert (report["category"], report["fix"]["kind"]) == (
            expected["category"],
            expected["fix_kind"],
        )
    finally:
        sandbox.stop()
