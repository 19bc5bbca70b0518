"""Chaos the GitOps way: the breaking change lands as a commit on the manifest repository.

In a GitOps cluster a bad change usually arrives through git and the CD system; injecting
it there keeps git and the cluster in agreement, so selfheal's fix pull request is a real
revert of a real change rather than a fight with drift.
"""

from __future__ import annotations

from typing import Any

from github.Repository import Repository
from kubernetes import client

from selfheal.activities.manifests import apply_patch
from selfheal.chaos.injection import (
    DEFAULT_NAMESPACE,
    ChaosRefused,
    Injection,
    create_object,
    require_opt_in,
    scenario_values,
)
from selfheal.chaos.scenarios import get_scenario
from selfheal.contracts.kubernetes import MANIFEST_ANNOTATION


def inject_through_repository(
    api_client: client.ApiClient,
    repo: Repository,
    name: str,
    namespace: str = DEFAULT_NAMESPACE,
    deployment: str | None = None,
    branch: str = "main",
) -> Injection:
    """Commit scenario `name`'s change to the Deployment's manifest on `branch`.

    Extra objects the scenario needs (none of which fix anything) go straight to the cluster.
    Raises ChaosRefused when the namespace is not opted in or the manifest is not known.
    """
    scenario = get_scenario(name)
    target = deployment or scenario.default_deployment
    require_opt_in(client.CoreV1Api(api_client), namespace)
    current = _deployment(api_client, namespace, target)
    path = (current["metadata"].get("annotations") or {}).get(MANIFEST_ANNOTATION)
    if not path:
        raise ChaosRefused(f"{namespace}/{target} has no {MANIFEST_ANNOTATION} annotation")
    patch, extras = scenario.render(scenario_values(current))
    manifest = repo.get_contents(path, ref=branch)
    assert not isinstance(manifest, list)
    changed = apply_patch(
        manifest.decoded_content.decode(), patch, namespace=namespace, name=target
    )
    for obj in extras:
        create_object(api_client, namespace, obj)
    repo.update_file(
        path,
        f"chaos: {scenario.name} on {namespace}/{target}\n\n{scenario.description}",
        changed,
        manifest.sha,
        branch=branch,
    )
    created = tuple(f"{o['kind']}/{o['metadata']['name']}" for o in extras)
    return Injection(scenario.name, namespace, target, created)


def has_manifest(
    api_client: client.ApiClient, name: str, namespace: str, deployment: str | None
) -> bool:
    """True when the scenario's Deployment names its manifest (`selfheal.dev/manifest`)."""
    target = deployment or get_scenario(name).default_deployment
    annotations = _deployment(api_client, namespace, target)["metadata"].get("annotations") or {}
    return bool(annotations.get(MANIFEST_ANNOTATION))


def _deployment(api_client: client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    return api_client.sanitize_for_serialization(  # type: ignore[no-any-return]
        client.AppsV1Api(api_client).read_namespaced_deployment(name, namespace)
    )
