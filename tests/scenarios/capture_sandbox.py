"""Captures each chaos scenario as the sandbox shows it: run this file.

For every scenario of selfheal.chaos, a fresh sandbox cluster is broken with it, the
workload's objects and logs are read through the official client exactly as the live
`gather_context` reads them, and written as a snapshot under
`<category>/sandbox_<scenario>/` with the catalogue's expected category and fix kind.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import yaml
from kubernetes import client

from selfheal.activities.kubernetes.client import ClusterConnection
from selfheal.activities.kubernetes.context import collect_workload_objects
from selfheal.chaos.injection import inject
from selfheal.chaos.scenarios import SCENARIOS
from selfheal.snapshots import write_snapshot
from selfheal_lab.sandbox.kube import KubeSandbox, Timing

ROOT = Path(__file__).parent
NAMESPACE = "demo"
SETTLE_SECONDS = 3.0


def capture(name: str) -> Path:
    """Break a fresh sandbox with scenario `name` and write its snapshot; return the folder."""
    scenario = SCENARIOS[name]
    folder = ROOT / scenario.category / f"sandbox_{name.replace('-', '_')}"
    with KubeSandbox(timing=Timing(tick=0.05, scale=0.02), progress_scale=0.01) as cluster:
        cluster.wait_for_available(timeout=15)
        configuration = client.Configuration()
        configuration.host = cluster.url
        with client.ApiClient(configuration) as api:
            injection = inject(api, name, namespace=NAMESPACE)
            time.sleep(SETTLE_SECONDS)
            got = collect_workload_objects(
                ClusterConnection(api_client=api), NAMESPACE, injection.workload, 50
            )
    if folder.exists():
        shutil.rmtree(folder)
    write_snapshot(folder, got.objects, got.logs, got.previous_logs)
    expected = {
        "category": scenario.category,
        "fix": scenario.fix_kind,
        "description": f"Sandbox capture of chaos scenario {name}: {scenario.description}",
    }
    (folder / "expected.yaml").write_text(yaml.safe_dump(expected, sort_keys=False, width=100))
    return folder


def main() -> None:
    for name, scenario in SCENARIOS.items():
        # The collector reads Deployments; capture_metrics.py captures what needs metrics.
        if scenario.kind == "Deployment" and not scenario.metrics_only:
            print(capture(name).relative_to(ROOT))


if __name__ == "__main__":
    main()
