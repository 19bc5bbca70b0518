"""Chaos the GitOps way: the breaking change lands as a commit on the manifest repository.

In a GitOps cluster a bad change usually arrives through git and the CD system; injecting
it there keeps git and the cluster in agreement, so selfheal's fix pull request is a real
revert of a real change rather than a fight with drift. A scenario's step (a CronJob run, a
node's failure) is taken once the CD system has deployed the change.
"""

from __future__ import annotations

from github.Repository import Repository
from kubernetes import client

from selfheal.activities.manifests import apply_patch
from selfheal.chaos.injection import (
    DEFAULT_NAMESPACE,
    ChaosRefused,
    Injection,
    create_object,
    require_opt_in,
    take_scenario_step,
)
from selfheal.chaos.scenarios import get_scenario
from selfheal.chaos.workloads import read_workload, scenario_values
from selfheal.contracts.kubernetes import MANIFEST_ANNOTATION


def inject_through_repository(
    api_client: client.ApiClient,
    repo: Repository,
    name: str,
    namespace: str = DEFAULT_NAMESPACE,
    workload: str | None = None,
    branch: str = "main",
) -> Injection:
    """Commit scenario `name`'s change to the workload's manifest on `branch`, then take the
    scenario's step once the cluster runs the change.

    Extra objects the scenario needs (none of which fix anything) go straight to the cluster;
    a scenario with no manifest change commits nothing. Raises ChaosRefused when the
    namespace is not opted in, the manifest is not known, or the step cannot be taken.
    """
    scenario = get_scenario(name)
    target = workload or scenario.default_workload
    require_opt_in(client.CoreV1Api(api_client), namespace)
    current = read_workload(api_client, scenario.kind, namespace, target)
    path = (current["metadata"].get("annotations") or {}).get(MANIFEST_ANNOTATION)
    if not path:
        raise ChaosRefused(
            f"{scenario.kind} {namespace}/{target} has no {MANIFEST_ANNOTATION} annotation"
        )
    patch, extras = scenario.render(scenario_values(current))
    for obj in extras:
        create_object(api_client, namespace, obj)
    if patch:
        manifest = repo.get_contents(path, ref=branch)
        assert not isinstance(manifest, list)
        changed = apply_patch(
            manifest.decoded_content.decode(),
            patch,
            namespace=namespace,
            name=target,
            kind=scenario.kind,
        )
        repo.update_file(
            path,
            f"chaos: {scenario.name} on {namespace}/{target}\n\n{scenario.description}",
            changed,
            manifest.sha,
            branch=branch,
        )
    created = tuple(f"{o['kind']}/{o['metadata']['name']}" for o in extras)
    job, nodes = take_scenario_step(api_client, scenario, namespace, target, patch)
    return Injection(scenario.name, namespace, target, created, scenario.kind, job, nodes)


def has_manifest(
    api_client: client.ApiClient, name: str, namespace: str, workload: str | None
) -> bool:
    """True when the scenario's workload names its manifest (`selfheal.dev/manifest`)."""
    scenario = get_scenario(name)
    target = workload or scenario.default_workload
    current = read_workload(api_client, scenario.kind, namespace, target)
    return bool((current["metadata"].get("annotations") or {}).get(MANIFEST_ANNOTATION))
