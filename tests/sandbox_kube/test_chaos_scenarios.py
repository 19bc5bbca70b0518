"""Each chaos scenario breaks the demo app the way a real cluster would, and its fix heals it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from selfheal.chaos import ChaosRefused, clear, inject, injected, list_scenarios
from selfheal.chaos.scenarios import CATEGORIES, FIX_KINDS, get_scenario
from selfheal_lab.sandbox.kube import KubeSandbox
from tests.sandbox_kube.conftest import wait_for

NS = "demo"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "chaos"


def pods_of(core: Any, app: str) -> list[Any]:
    return list(core.list_namespaced_pod(NS, label_selector=f"app={app}").items)


def container_status(pod: Any) -> Any:
    statuses = pod.status.container_statuses or []
    return statuses[0] if statuses else None


def broken_pod(core: Any, app: str, image: str | None = None) -> Any:
    """Return a pod of the newest template (or running `image`), if it is not Ready."""
    for pod in pods_of(core, app):
        spec_image = pod.spec.containers[0].image
        if image is not None and spec_image != image:
            continue
        status = container_status(pod)
        if status is None or not status.ready:
            return pod
    return None


def events_for(core: Any, pod: Any) -> list[Any]:
    selector = f"involvedObject.name={pod.metadata.name},involvedObject.uid={pod.metadata.uid}"
    return list(core.list_namespaced_event(NS, field_selector=selector).items)


def healed(core: Any, apps: Any, app: str) -> bool:
    deployment = apps.read_namespaced_deployment(app, NS)
    status = deployment.status
    want = deployment.spec.replicas
    pods = pods_of(core, app)
    return (
        status.observed_generation == deployment.metadata.generation
        and status.updated_replicas == want
        and status.available_replicas == want
        and status.replicas == want
        and len(pods) == want
        and all(container_status(p) and container_status(p).ready for p in pods)
    )


def test_catalogue_lists_seven_scenarios_with_known_categories_and_fixes() -> None:
    scenarios = {s["name"]: s for s in list_scenarios()}
    assert {
        "crashloop",
        "oom",
        "bad-image",
        "missing-config",
        "failing-probe",
        "unschedulable",
        "replica-shortage",
    } <= set(scenarios)
    for scenario in scenarios.values():
        assert scenario["category"] in CATEGORIES
        assert scenario["fix_kind"] in FIX_KINDS
        assert scenario["description"]
    assert scenarios["oom"]["category"] == "oom_killed"
    assert scenarios["oom"]["fix_kind"] == "increase_memory"


def test_catalogue_targets_every_new_kind_and_marks_node_steps_as_sandbox_only() -> None:
    scenarios = {s["name"]: s for s in list_scenarios()}
    kinds = {name: s["kind"] for name, s in scenarios.items()}
    assert kinds["statefulset-oom"] == "StatefulSet"
    assert kinds["daemonset-bad-image"] == "DaemonSet"
    assert kinds["job-backoff"] == "CronJob"
    needs_sandbox = {name for name, s in scenarios.items() if s["needs"] == "sandbox"}
    assert needs_sandbox == {"evicted", "node-notready"}
    for name in needs_sandbox:
        step = get_scenario(name).step
        assert step is not None and step.needs_sandbox and len(step.by_hand) > 40
    metrics_only = {name for name in scenarios if get_scenario(name).metrics_only}
    assert metrics_only == {"cpu-throttling"}
    assert (scenarios["cpu-throttling"]["category"], scenarios["cpu-throttling"]["fix_kind"]) == (
        "cpu_throttling",
        "increase_cpu",
    )


def test_every_scenario_has_a_page_listed_in_the_chaos_readme() -> None:
    readme = (DOCS / "README.md").read_text()
    for scenario in list_scenarios():
        page = DOCS / f"{scenario['name']}.md"
        assert page.exists(), page
        assert f"]({scenario['name']}.md)" in readme
        text = page.read_text()
        assert f"`{scenario['category']}`" in text and "Expected diagnosis" in text
        if scenario["needs"] == "sandbox":
            assert "Needs the sandbox" in text
        if get_scenario(scenario["name"]).metrics_only:
            assert "Needs Prometheus" in text


def test_a_cronjob_patch_lands_on_its_job_template(api: client.ApiClient, core: Any) -> None:
    inject(api, "job-backoff", NS)
    cronjob = client.BatchV1Api(api).read_namespaced_cron_job("nightly-report", NS)
    command = cronjob.spec.job_template.spec.template.spec.containers[0].command
    assert command[-1].endswith("exit 1")
    jobs = client.BatchV1Api(api).list_namespaced_job(NS).items
    assert [job.metadata.annotations.get("cronjob.kubernetes.io/instantiate") for job in jobs] == [
        "manual"
    ]
    assert clear(api, NS, "nightly-report") == "job-backoff"
    restored = client.BatchV1Api(api).read_namespaced_cron_job("nightly-report", NS)
    assert restored.spec.job_template.spec.template.spec.containers[0].command == [
        "sh",
        "-c",
        "echo nightly report written",
    ]
    assert client.BatchV1Api(api).list_namespaced_job(NS).items == []


def test_crashloop_restarts_rise_with_exit_code_1_and_rollback_heals(
    api: client.ApiClient, core: Any, apps: Any
) -> None:
    inject(api, "crashloop", NS, "checkout")
    crashing = "registry.sandbox.local/demo/checkout:1.5.0"

    def looping() -> Any:
        pod = broken_pod(core, "checkout", crashing)
        status = container_status(pod) if pod else None
        if status and status.restart_count >= 2 and status.state.waiting:
            return pod
        return None

    pod = wait_for(looping, what="checkout in CrashLoopBackOff")
    status = container_status(pod)
    assert status.state.waiting.reason == "CrashLoopBackOff"
    assert "back-off" in status.state.waiting.message
    assert status.last_state.terminated.exit_code == 1
    assert status.last_state.terminated.reason == "Error"
    reasons = {(e.type, e.reason) for e in events_for(core, pod)}
    assert ("Warning", "BackOff") in reasons
    previous = core.read_namespaced_pod_log(
        pod.metadata.name, NS, container="checkout", previous=True
    )
    assert "migration failed" in previous
    # A rollout that never becomes available leaves the old pods serving.
    assert len([p for p in pods_of(core, "checkout") if container_status(p).ready]) == 2

    apps.patch_namespaced_deployment(
        "checkout",
        NS,
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "checkout",
                                "image": "registry.sandbox.local/demo/checkout:1.4.2",
                            }
                        ]
                    }
                }
            }
        },
    )
    wait_for(lambda: healed(core, apps, "checkout"), what="checkout healed")


def test_oom_kills_with_137_and_more_memory_heals(
    api: client.ApiClient, core: Any, apps: Any
) -> None:
    inject(api, "oom", NS, "checkout")

    def oom_killed() -> Any:
        for pod in pods_of(core, "checkout"):
            status = container_status(pod)
            terminated = status.last_state.terminated if status and status.last_state else None
            if terminated and terminated.reason == "OOMKilled" and status.restart_count >= 2:
                return pod
        return None

    pod = wait_for(oom_killed, what="an OOMKilled checkout pod")
    status = container_status(pod)
    assert status.last_state.terminated.exit_code == 137
    assert pod.spec.containers[0].resources.limits["memory"] == "128Mi"

    raise_memory = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "checkout",
                            "resources": {
                                "requests": {"memory": "256Mi"},
                                "limits": {"memory": "256Mi"},
                            },
                        }
                    ]
                }
            }
        }
    }
    apps.patch_namespaced_deployment("checkout", NS, raise_memory)
    wait_for(lambda: healed(core, apps, "checkout"), what="checkout healed")
    restarts = [container_status(p).restart_count for p in pods_of(core, "checkout")]
    assert restarts == [0, 0]


def test_bad_image_pull_fails_and_rollback_to_previous_revision_heals(
    api: client.ApiClient, core: Any, apps: Any
) -> None:
    inject(api, "bad-image", NS, "checkout")
    missing = "registry.sandbox.local/demo/checkout:1.4.3"

    def backing_off() -> Any:
        pod = broken_pod(core, "checkout", missing)
        status = container_status(pod) if pod else None
        waiting = status.state.waiting if status else None
        return pod if waiting and waiting.reason == "ImagePullBackOff" else None

    pod = wait_for(backing_off, what="ImagePullBackOff")
    assert pod.status.phase == "Pending"
    messages = [e.message for e in events_for(core, pod) if e.reason == "Failed"]
    assert any(
        m.startswith(f'Failed to pull image "{missing}"') and "not found" in m for m in messages
    )
    assert "Error: ErrImagePull" in messages
    assert "Error: ImagePullBackOff" in messages
    deployment = apps.read_namespaced_deployment("checkout", NS)
    assert deployment.metadata.annotations["deployment.kubernetes.io/revision"] == "2"

    # Roll back the way `kubectl rollout undo` does: revision 1's template.
    sets = apps.list_namespaced_replica_set(NS, label_selector="app=checkout").items
    first = next(
        rs for rs in sets if rs.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    )
    template = api.sanitize_for_serialization(first.spec.template)
    del template["metadata"]["labels"]["pod-template-hash"]
    apps.patch_namespaced_deployment(
        "checkout", NS, [{"op": "replace", "path": "/spec/template", "value": template}]
    )
    wait_for(lambda: healed(core, apps, "checkout"), what="checkout healed")
    deployment = apps.read_namespaced_deployment("checkout", NS)
    assert deployment.metadata.annotations["deployment.kubernetes.io/revision"] == "3"
    assert deployment.spec.template.spec.containers[0].image.endswith(":1.4.2")


def test_missing_config_blocks_start_until_the_secret_exists(
    api: client.ApiClient, core: Any, apps: Any
) -> None:
    inject(api, "missing-config", NS, "payments")

    def config_error() -> Any:
        pod = broken_pod(core, "payments")
        status = container_status(pod) if pod else None
        waiting = status.state.waiting if status else None
        return pod if waiting and waiting.reason == "CreateContainerConfigError" else None

    pod = wait_for(config_error, what="CreateContainerConfigError")
    assert (
        container_status(pod).state.waiting.message == 'secret "payments-feature-flags" not found'
    )
    failed = [e.message for e in events_for(core, pod) if e.reason == "Failed"]
    assert 'Error: secret "payments-feature-flags" not found' in failed

    core.create_namespaced_secret(
        NS, {"metadata": {"name": "payments-feature-flags"}, "stringData": {"other": "x"}}
    )

    def key_missing() -> bool:
        status = container_status(core.read_namespaced_pod(pod.metadata.name, NS))
        waiting = status.state.waiting
        return bool(
            waiting
            and waiting.message == "couldn't find key flags in Secret demo/payments-feature-flags"
        )

    wait_for(key_missing, what="missing key message")
    core.patch_namespaced_secret(
        "payments-feature-flags", NS, {"stringData": {"flags": "new-checkout=on"}}
    )
    wait_for(lambda: healed(core, apps, "payments"), what="payments healed")


def test_failing_probe_keeps_pod_unready_until_the_path_is_fixed(
    api: client.ApiClient, core: Any, apps: Any
) -> None:
    inject(api, "failing-probe", NS, "catalog")

    def unready_with_events() -> Any:
        pod = broken_pod(core, "catalog")
        if pod is None or pod.status.phase != "Running":
            return None
        unhealthy = [e for e in events_for(core, pod) if e.reason == "Unhealthy"]
        return pod if unhealthy and unhealthy[0].count >= 2 else None

    pod = wait_for(unready_with_events, what="an unready catalog pod")
    status = container_status(pod)
    assert status.state.running is not None and not status.ready
    assert status.restart_count == 0
    event = next(e for e in events_for(core, pod) if e.reason == "Unhealthy")
    assert event.type == "Warning"
    assert event.message == "Readiness probe failed: HTTP probe failed with statuscode: 404"
    assert event.source.component == "kubelet"

    relax = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "catalog", "readinessProbe": {"httpGet": {"path": "/healthz"}}}
                    ]
                }
            }
        }
    }
    apps.patch_namespaced_deployment("catalog", NS, relax)
    wait_for(lambda: healed(core, apps, "catalog"), what="catalog healed")


def test_unschedulable_pod_stays_pending_until_requests_fit(
    api: client.ApiClient, core: Any, apps: Any
) -> None:
    inject(api, "unschedulable", NS, "checkout")

    def pending() -> Any:
        for pod in pods_of(core, "checkout"):
            conditions = {c.type: c for c in pod.status.conditions or []}
            scheduled = conditions.get("PodScheduled")
            if scheduled and scheduled.reason == "Unschedulable":
                return pod
        return None

    pod = wait_for(pending, what="an unschedulable pod")
    assert pod.status.phase == "Pending"
    assert pod.spec.node_name is None
    event = next(e for e in events_for(core, pod) if e.reason == "FailedScheduling")
    assert event.type == "Warning"
    assert event.source.component == "default-scheduler"
    assert event.message.startswith("0/3 nodes are available: 3 Insufficient memory.")

    assert clear(api, NS, "checkout") == "unschedulable"
    wait_for(lambda: healed(core, apps, "checkout"), what="checkout healed")


def test_replica_shortage_overloads_until_scaled_up(
    api: client.ApiClient, core: Any, apps: Any
) -> None:
    inject(api, "replica-shortage", NS, "checkout")

    def overloaded() -> Any:
        pods = pods_of(core, "checkout")
        if len(pods) != 1 or container_status(pods[0]).ready:
            return None
        return pods[0]

    pod = wait_for(overloaded, what="one overloaded checkout pod")
    unhealthy = [e.message for e in events_for(core, pod) if e.reason == "Unhealthy"]
    assert any("context deadline exceeded" in m for m in unhealthy)
    log = core.read_namespaced_pod_log(pod.metadata.name, NS, container="checkout")
    assert "request queue saturated" in log
    wait_for(
        lambda: not apps.read_namespaced_deployment("checkout", NS).status.available_replicas,
        what="0 available replicas",
    )

    apps.patch_namespaced_deployment_scale("checkout", NS, {"spec": {"replicas": 2}})
    wait_for(lambda: healed(core, apps, "checkout"), what="checkout healed")


def test_inject_refuses_a_namespace_without_the_chaos_label(
    api: client.ApiClient, core: Any, apps: Any
) -> None:
    core.create_namespace({"metadata": {"name": "prod"}})
    with pytest.raises(ChaosRefused, match=r"not labelled selfheal\.dev/chaos=enabled"):
        inject(api, "oom", "prod", "checkout")
    assert injected(api, NS, "checkout") is None


def test_clear_restores_the_baseline_and_a_second_inject_is_refused(
    api: client.ApiClient, core: Any, apps: Any
) -> None:
    before: dict[str, Any] = api.sanitize_for_serialization(
        apps.read_namespaced_deployment("catalog", NS).spec.template
    )
    inject(api, "bad-image", NS, "catalog")
    assert injected(api, NS, "catalog") == "bad-image"
    with pytest.raises(ChaosRefused, match="already injected"):
        inject(api, "oom", NS, "catalog")
    assert clear(api, NS, "catalog") == "bad-image"
    after = api.sanitize_for_serialization(
        apps.read_namespaced_deployment("catalog", NS).spec.template
    )
    assert after == before
    wait_for(lambda: healed(core, apps, "catalog"), what="catalog healed")
    assert clear(api, NS, "catalog") is None


def test_sandbox_starts_with_a_healthy_labelled_demo(
    sandbox: KubeSandbox, core: Any, apps: Any
) -> None:
    namespace = core.read_namespace(NS)
    assert namespace.metadata.labels["selfheal.dev/chaos"] == "enabled"
    for app in ("checkout", "payments", "catalog"):
        deployment = apps.read_namespaced_deployment(app, NS)
        assert (
            deployment.metadata.annotations["selfheal.dev/manifest"]
            == f"apps/{app}/deployment.yaml"
        )
        assert healed(core, apps, app)
        conditions = {c.type: c for c in deployment.status.conditions}
        assert conditions["Available"].status == "True"
        assert conditions["Progressing"].reason == "NewReplicaSetAvailable"
