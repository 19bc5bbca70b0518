"""The demo's manifests (the GitOps repo's content) describe what the sandbox runs."""

from __future__ import annotations

from typing import Any

import yaml
from kubernetes import client

from selfheal_lab.sandbox.gitops import GitOpsSync
from selfheal_lab.sandbox.kube import KubeSandbox, baseline_manifests
from selfheal_lab.sandbox.kube.demo import MANIFEST_ANNOTATION


class Baseline:
    """A manifest source whose main branch holds the demo baseline at one commit."""

    def branch_head(self, branch: str) -> str | None:
        return "baseline"

    def changed_files(self, old: str | None, new: str) -> dict[str, bytes | None]:
        return {path: text.encode() for path, text in baseline_manifests().items()}


def generations(api: client.ApiClient) -> dict[str, int]:
    apps, batch = client.AppsV1Api(api), client.BatchV1Api(api)
    found = {
        "ledger": apps.read_namespaced_stateful_set("ledger", "demo"),
        "log-agent": apps.read_namespaced_daemon_set("log-agent", "demo"),
        "nightly-report": batch.read_namespaced_cron_job("nightly-report", "demo"),
        "checkout": apps.read_namespaced_deployment("checkout", "demo"),
    }
    return {name: obj.metadata.generation for name, obj in found.items()}


def test_every_workload_names_its_manifest() -> None:
    for path, text in baseline_manifests().items():
        manifest: dict[str, Any] = yaml.safe_load(text)
        if manifest["kind"] in ("StatefulSet", "DaemonSet", "CronJob", "Deployment"):
            assert manifest["metadata"]["annotations"][MANIFEST_ANNOTATION] == path


def test_syncing_the_baseline_changes_nothing(sandbox: KubeSandbox, api: client.ApiClient) -> None:
    before = generations(api)
    result = GitOpsSync(Baseline(), api).sync_once()
    assert result is not None and result.ok, result
    assert {
        "applied StatefulSet demo/ledger",
        "applied DaemonSet demo/log-agent",
        "applied CronJob demo/nightly-report",
        "applied Service demo/ledger",
    } <= set(result.applied)
    assert generations(api) == before
