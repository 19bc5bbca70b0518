"""The GitOps sync: new commits on the sandbox repo's main reach the sandbox cluster."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from github import Github
from kubernetes import client as k8s

from selfheal_lab.sandbox.github import GitHubSandbox
from selfheal_lab.sandbox.github.history import signature
from selfheal_lab.sandbox.gitops import GitOpsSync, kube_client
from selfheal_lab.sandbox.kube.demo import baseline_manifests
from selfheal_lab.sandbox.kube.kubelet import Timing
from selfheal_lab.sandbox.kube.sandbox import KubeSandbox
from tests.sandbox_github.conftest import BOT_TOKEN, REVIEWER_TOKEN, client

PATH = "apps/checkout/deployment.yaml"


@pytest.fixture
def cluster() -> Iterator[KubeSandbox]:
    with KubeSandbox(timing=Timing(tick=0.05, scale=0.01)) as kube:
        kube.wait_for_available(timeout=20)
        yield kube


@pytest.fixture
def demo_repo() -> Iterator[GitHubSandbox]:
    gh = GitHubSandbox()
    gh.add_user("alice", REVIEWER_TOKEN)
    gh.start()
    yield gh
    gh.stop()


def checkout(cluster: KubeSandbox) -> dict[str, Any]:
    """Return the checkout Deployment as the API serves it, as plain JSON."""
    api_client = kube_client(url=cluster.url)
    found = k8s.AppsV1Api(api_client).read_namespaced_deployment("checkout", "demo")
    deployment: dict[str, Any] = api_client.sanitize_for_serialization(found)
    return deployment


def commit_on_main(gh: GitHubSandbox, path: str, old: str, new: str) -> str:
    text = gh.read_file(path)
    assert text is not None and old in text
    return gh.history.commit_files(
        "main", {path: text.replace(old, new).encode()}, "change", signature("someone")
    )


def test_default_repo_holds_the_cluster_baseline(demo_repo: GitHubSandbox) -> None:
    for path, text in baseline_manifests().items():
        assert demo_repo.read_file(path) == text


def test_first_sync_of_the_running_baseline_changes_nothing(
    cluster: KubeSandbox, demo_repo: GitHubSandbox
) -> None:
    before = checkout(cluster)["metadata"]["generation"]
    sync = GitOpsSync(demo_repo.history, kube_client(url=cluster.url))
    result = sync.sync_once()
    assert result is not None and result.ok, result
    assert "applied Deployment demo/checkout" in result.applied
    assert checkout(cluster)["metadata"]["generation"] == before
    assert sync.sync_once() is None, "nothing new on main"


def test_merged_pull_request_rolls_out(
    cluster: KubeSandbox, demo_repo: GitHubSandbox, tmp_path: Path
) -> None:
    kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
    head = demo_repo.history.branch_head("main")
    sync = GitOpsSync(demo_repo.history, kube_client(kubeconfig=kubeconfig), synced_revision=head)
    before = checkout(cluster)

    bot: Github = client(demo_repo, BOT_TOKEN)
    repo = bot.get_repo("acme/infra")
    repo.create_git_ref("refs/heads/fix", repo.get_branch("main").commit.sha)
    current = repo.get_contents(PATH, ref="fix")
    assert not isinstance(current, list)
    text = current.decoded_content.decode()
    old = "memory: 256Mi  # the working set"
    assert old in text
    raised = text.replace(old, "memory: 512Mi  # the working set")
    repo.update_file(PATH, "raise limit", raised, current.sha, branch="fix")
    assert sync.sync_once() is None, "a branch is not main"
    pr = repo.create_pull(base="main", head="fix", title="raise limit", body="")
    client(demo_repo, REVIEWER_TOKEN).get_repo("acme/infra").get_pull(pr.number).create_review(
        body="ok", event="APPROVE"
    )
    pr.merge(merge_method="squash")

    result = sync.sync_once()
    assert result is not None and result.ok
    assert result.applied == ["applied Deployment demo/checkout"], "only the changed manifest"
    after = checkout(cluster)
    container = after["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["memory"] == "512Mi"
    assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1
    assert after["metadata"]["annotations"]["selfheal.dev/manifest"] == PATH
    cluster.wait_for_available(names=("checkout",), timeout=20)


def test_drift_outside_the_commit_is_left_alone(
    cluster: KubeSandbox, demo_repo: GitHubSandbox
) -> None:
    sync = GitOpsSync(
        demo_repo.history,
        kube_client(url=cluster.url),
        synced_revision=demo_repo.history.branch_head("main"),
    )
    apps = k8s.AppsV1Api(kube_client(url=cluster.url))
    apps.patch_namespaced_deployment("checkout", "demo", {"spec": {"replicas": 3}})

    commit_on_main(demo_repo, "apps/catalog/configmap.yaml", "log_level: info", "log_level: debug")
    result = sync.sync_once()

    assert result is not None and result.applied == ["applied ConfigMap demo/catalog-config"]
    assert checkout(cluster)["spec"]["replicas"] == 3, "a direct fix survives an unrelated sync"
    config = k8s.CoreV1Api(kube_client(url=cluster.url)).read_namespaced_config_map(
        "catalog-config", "demo"
    )
    assert (config.data or {}).get("log_level") == "debug"


def test_background_loop_applies_new_commits(
    cluster: KubeSandbox, demo_repo: GitHubSandbox
) -> None:
    sync = GitOpsSync(
        demo_repo.history,
        kube_client(url=cluster.url),
        interval=0.05,
        synced_revision=demo_repo.history.branch_head("main"),
    )
    sync.start()
    try:
        head = commit_on_main(demo_repo, PATH, "replicas: 2", "replicas: 3")
        deadline = time.monotonic() + 5
        while sync.revision != head and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        sync.stop()
    assert sync.revision == head
    assert checkout(cluster)["spec"]["replicas"] == 3


def test_unreachable_cluster_keeps_the_revision_pending(demo_repo: GitHubSandbox) -> None:
    sync = GitOpsSync(demo_repo.history, kube_client(url="http://127.0.0.1:9"))
    result = sync.sync_once()
    assert result is not None and not result.ok
    assert any("checkout" in error for error in result.errors)
    assert sync.revision is None, "a failed sync is retried on the next poll"
