"""A fresh sandbox cluster per test, which the activities reach through a kubeconfig over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from selfheal.activities.kubernetes.activities import KubernetesActivities
from selfheal.settings import Settings
from selfheal_lab.sandbox.kube import KubeSandbox, Timing
from tests.kubernetes.workloads import create

FAST = Timing(tick=0.05, scale=0.02)
NAMESPACE = "shop"


@pytest.fixture
def sandbox() -> Iterator[KubeSandbox]:
    cluster = KubeSandbox(seed_demo=False, timing=FAST, progress_scale=0.01)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def kubeconfig(sandbox: KubeSandbox, tmp_path: Path) -> Path:
    return sandbox.write_kubeconfig(tmp_path / "kubeconfig", namespace=NAMESPACE)


@pytest.fixture
def api_client(kubeconfig: Path) -> Iterator[client.ApiClient]:
    """The test's own client, for arranging the cluster and checking on it."""
    with config.new_client_from_config(config_file=str(kubeconfig)) as api:
        yield api


@pytest.fixture
def namespace(api_client: client.ApiClient) -> str:
    create(
        api_client, "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    )
    return NAMESPACE


@pytest.fixture
def activities(kubeconfig: Path) -> Callable[..., KubernetesActivities]:
    """Build KubernetesActivities from the sandbox's kubeconfig, as the worker would.

    By default the test namespace is allowed and destructive actions are on; keyword
    arguments override any Settings field.
    """

    def build(**overrides: Any) -> KubernetesActivities:
        fields: dict[str, Any] = {
            "kubeconfig": kubeconfig,
            "cluster": "sandbox",
            "namespaces": [NAMESPACE],
            "allow_destructive": True,
            **overrides,
        }
        return KubernetesActivities(Settings(**fields), poll_interval=0.1)

    return build
