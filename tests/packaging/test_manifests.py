"""deploy/: every manifest is a valid Kubernetes object, and RBAC grants exactly what is called."""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import ApiClient

from selfheal.settings import Settings
from tests.packaging.env_names import ROOT, known_env_names, settings_env_names
from tests.packaging.kube_calls import Permission, api_calls, needed_permissions, permission_of

DEPLOY = ROOT / "deploy"
ACTIVITIES = ROOT / "selfheal" / "activities" / "kubernetes"
BUILDS = ("base", "overlays/production", "overlays/destructive")

NEVER_GRANTED: dict[Permission, str] = {
    ("", "secrets", "get"): (
        "RBAC cannot grant a Secret's metadata without its data; selfheal reads none "
        "(deploy/base/rbac.yaml)"
    ),
}
DESTRUCTIVE_VERBS = {"delete"}
"""Granted only by overlays/destructive, with SELFHEAL_ALLOW_DESTRUCTIVE on."""

WORKER_SA = ("selfheal", "selfheal-worker")


@cache
def render(build: str) -> tuple[dict[str, Any], ...]:
    """The objects `kubectl kustomize deploy/<build>` renders."""
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl renders the Kustomize builds"
    output = subprocess.run(
        [kubectl, "kustomize", str(DEPLOY / build)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return tuple(doc for doc in yaml.safe_load_all(output) if doc)


def as_model(obj: dict[str, Any]) -> Any:
    """The kubernetes client's model of `obj`, as if the apiserver had answered it.

    The models check required fields and types; a field they do not know (a typo such as
    `readinesProbe`) is dropped, so the round trip back to a dict must give `obj` again.
    """
    client = ApiClient()
    version = obj["apiVersion"].rpartition("/")[2].capitalize()
    model = client.deserialize(json.dumps(obj), f"{version}{obj['kind']}", "application/json")
    assert client.sanitize_for_serialization(model) == obj, f"unknown fields in {obj['kind']}"
    return model


def of_kind(objects: tuple[dict[str, Any], ...], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] == kind]


def named(objects: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    (found,) = [obj for obj in of_kind(objects, kind) if obj["metadata"]["name"] == name]
    return found


def worker_grants(objects: tuple[dict[str, Any], ...]) -> dict[str, set[Permission]]:
    """What the worker's service account may do, per namespace bound ('*' for cluster-wide)."""
    roles = {obj["metadata"]["name"]: obj for obj in of_kind(objects, "ClusterRole")}
    grants: dict[str, set[Permission]] = {}
    for binding in of_kind(objects, "RoleBinding") + of_kind(objects, "ClusterRoleBinding"):
        subjects = {(s.get("namespace"), s["name"]) for s in binding.get("subjects", [])}
        if WORKER_SA not in subjects:
            continue
        assert binding["roleRef"]["kind"] == "ClusterRole"
        scope = binding["metadata"].get("namespace", "*")
        for rule in roles[binding["roleRef"]["name"]]["rules"]:
            grants.setdefault(scope, set()).update(
                (group, resource, verb)
                for group in rule["apiGroups"]
                for resource in rule["resources"]
                for verb in rule["verbs"]
            )
    return grants


def needed() -> set[Permission]:
    return set(needed_permissions(ACTIVITIES)) - set(NEVER_GRANTED)


@pytest.mark.parametrize("build", BUILDS)
def test_every_manifest_is_a_valid_kubernetes_object(build: str) -> None:
    objects = render(build)
    assert objects
    for obj in objects:
        model = as_model(obj)
        assert model.metadata.name == obj["metadata"]["name"]


def test_activities_call_only_resolvable_api_methods() -> None:
    calls = api_calls(ACTIVITIES)
    assert calls, "the scan found no Kubernetes API call at all"
    assert all(call.api is not None for call in calls), calls
    needs = needed_permissions(ACTIVITIES)
    # The scan reads what the client really requests: subresources and verbs included.
    assert ("apps", "deployments/scale", "patch") in needs
    assert ("", "pods/log", "get") in needs
    assert ("", "pods", "list") in needs


def test_production_rbac_grants_exactly_what_the_activities_call() -> None:
    grants = worker_grants(render("overlays/production"))
    assert set(grants) == {"shop"}, "the worker is bound in its target namespace only"
    expected = {p for p in needed() if p[2] not in DESTRUCTIVE_VERBS}
    assert grants["shop"] - expected == set(), "granted but never called"
    assert expected - grants["shop"] == set(), "called but not granted"


def test_destructive_overlay_adds_only_pod_deletion() -> None:
    production = worker_grants(render("overlays/production"))["shop"]
    destructive = worker_grants(render("overlays/destructive"))["shop"]
    assert destructive - production == {p for p in needed() if p[2] in DESTRUCTIVE_VERBS}
    assert destructive == needed()
    config = named(render("overlays/destructive"), "ConfigMap", "selfheal-config")
    assert config["data"]["SELFHEAL_ALLOW_DESTRUCTIVE"] == "true"


def test_no_build_grants_secrets_or_cluster_wide_rights() -> None:
    for build in BUILDS:
        objects = render(build)
        assert not of_kind(objects, "ClusterRoleBinding"), build
        assert not of_kind(objects, "Role"), build
        for role in of_kind(objects, "ClusterRole"):
            for rule in role["rules"]:
                assert "secrets" not in rule["resources"], role["metadata"]["name"]
                assert "*" not in rule["resources"] + rule["verbs"] + rule["apiGroups"]


def test_the_webhook_has_no_kubernetes_credentials() -> None:
    objects = render("base")
    account = named(objects, "ServiceAccount", "selfheal-webhook")
    pod = named(objects, "Deployment", "selfheal-webhook")["spec"]["template"]["spec"]
    assert account["automountServiceAccountToken"] is False
    assert pod["automountServiceAccountToken"] is False
    assert not worker_grants(objects)


def test_deployments_have_probes_limits_and_run_as_non_root() -> None:
    objects = render("base")
    probes = {
        "selfheal-worker": {"liveness": "/metrics", "readiness": "/metrics"},
        "selfheal-webhook": {"liveness": "/healthz", "readiness": "/readyz"},
    }
    for name, paths in probes.items():
        deployment = named(objects, "Deployment", name)
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["args"] == [name.removeprefix("selfheal-")]
        assert container["livenessProbe"]["httpGet"]["path"] == paths["liveness"]
        assert container["readinessProbe"]["httpGet"]["path"] == paths["readiness"]
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert deployment["spec"]["replicas"] >= 2


def test_ports_probes_and_services_agree_with_the_settings() -> None:
    objects = render("base")
    defaults = Settings.model_validate({})
    worker = named(objects, "Deployment", "selfheal-worker")["spec"]["template"]["spec"]
    webhook = named(objects, "Deployment", "selfheal-webhook")["spec"]["template"]["spec"]
    worker_env = {e["name"]: e["value"] for e in worker["containers"][0]["env"]}
    webhook_env = {e["name"]: e["value"] for e in webhook["containers"][0]["env"]}
    assert worker_env["SELFHEAL_IN_CLUSTER"] == "true"
    assert worker["containers"][0]["ports"][0]["containerPort"] == defaults.metrics_port
    assert int(worker_env["SELFHEAL_METRICS_PORT"]) == defaults.metrics_port
    assert webhook_env["SELFHEAL_WEBHOOK_HOST"] == "0.0.0.0"
    port = int(webhook_env["SELFHEAL_WEBHOOK_PORT"])
    assert webhook["containers"][0]["ports"][0]["containerPort"] == port
    service = named(objects, "Service", "selfheal-webhook")
    assert service["spec"]["selector"] == webhook_labels(objects)
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def webhook_labels(objects: tuple[dict[str, Any], ...]) -> dict[str, str]:
    deployment = named(objects, "Deployment", "selfheal-webhook")
    labels: dict[str, str] = deployment["spec"]["selector"]["matchLabels"]
    return labels


def test_disruption_budgets_select_the_deployments() -> None:
    objects = render("base")
    for name in ("selfheal-worker", "selfheal-webhook"):
        budget = named(objects, "PodDisruptionBudget", name)
        deployment = named(objects, "Deployment", name)
        assert budget["spec"]["selector"] == deployment["spec"]["selector"]
        assert budget["spec"]["minAvailable"] == 1


def test_config_map_holds_valid_settings() -> None:
    for build in BUILDS:
        data = named(render(build), "ConfigMap", "selfheal-config")["data"]
        assert set(data) <= known_env_names()
        fields = settings_fields_of({k: v for k, v in data.items() if k in settings_env_names()})
        Settings.model_validate(fields)


def settings_fields_of(env: dict[str, str]) -> dict[str, str]:
    """Settings keyword arguments for env values (SELFHEAL_X -> x; aliases stay as they are)."""
    prefix = "SELFHEAL_"
    return {
        (name.removeprefix(prefix).lower() if name.startswith(prefix) else name): value
        for name, value in env.items()
    }


def test_secret_templates_hold_no_values_and_only_secret_settings() -> None:
    secret_names = {
        name
        for name in settings_env_names()
        if any(word in name for word in ("TOKEN", "SECRET", "KEY", "PASSWORD", "WEBHOOK_URL"))
    } | {"TEMPORAL_API_KEY"}
    referenced = {
        source["secretRef"]["name"]
        for deployment in of_kind(render("base"), "Deployment")
        for source in deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]
        if "secretRef" in source
    }
    templates = sorted((DEPLOY / "secrets").glob("*.template.yaml"))
    found = set()
    for path in templates:
        secret = yaml.safe_load(path.read_text())
        as_model(secret)
        found.add(secret["metadata"]["name"])
        assert set(secret["stringData"]) <= secret_names, path.name
        assert all(value == "" for value in secret["stringData"].values()), path.name
    assert found == referenced == {"selfheal-worker", "selfheal-webhook"}


def test_secret_templates_are_not_applied_by_any_build() -> None:
    for build in BUILDS:
        assert not of_kind(render(build), "Secret"), build


def test_never_granted_calls_are_still_made() -> None:
    """An exemption for a call that no longer exists must be removed, not kept as a loophole."""
    assert set(NEVER_GRANTED) <= set(needed_permissions(ACTIVITIES))


def test_model_check_catches_a_misspelt_field() -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "typo"},
        "spec": {"ports": [{"port": 80, "targetPrt": "http"}]},
    }
    with pytest.raises(AssertionError, match="unknown fields"):
        as_model(service)


def test_scan_sees_a_new_call_and_an_unresolved_receiver(tmp_path: Path) -> None:
    shutil.copytree(ACTIVITIES, tmp_path / "kubernetes")
    (tmp_path / "kubernetes" / "extra.py").write_text(
        "def more(conn):\n"
        "    conn.core().read_namespaced_endpoints('web', 'shop')\n"
        "    api = conn.apps()\n"
        "    api.delete_namespaced_deployment('web', 'shop')\n"
    )
    calls = api_calls(tmp_path / "kubernetes")
    unresolved = [call for call in calls if call.api is None]
    assert [call.method for call in unresolved] == ["delete_namespaced_deployment"]
    resolved = [call for call in calls if call.api is not None]
    assert ("", "endpoints", "get") in {permission_of(call) for call in resolved}
    granted = worker_grants(render("overlays/destructive"))["shop"]
    assert ("", "endpoints", "get") not in granted
