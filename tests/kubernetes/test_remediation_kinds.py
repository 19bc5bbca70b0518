"""apply_remediation reaches StatefulSets, DaemonSets and CronJobs as it reaches Deployments:
patches marked once per incident, rollbacks from ControllerRevisions, and no change to a
kind that has no rollout or replicas where the action needs one. On the sandbox, over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from kubernetes import client
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from selfheal.activities.kubernetes.activities import KubernetesActivities
from selfheal.activities.kubernetes.forced_rollback import stuck_on_old_revision
from selfheal.activities.kubernetes.remediation import LAST_REMEDIATION, PREVIOUS_REVISION
from selfheal.contracts.kubernetes import (
    HealthCheckRequest,
    RemediationRequest,
    RemediationResult,
    RolloutRequest,
)
from selfheal.model.diagnosis import ActionKind, RemediationAction
from tests.kubernetes.workloads import (
    BUSYBOX,
    create,
    eventually,
    pod_template,
    stateful_set,
    status_of,
)

Activities = Callable[..., KubernetesActivities]
AGENT = "registry.sandbox.local/library/fluent-bit:3.1"
MISSING_AGENT = "registry.sandbox.local/library/fluent-bit:3.2"
"""Never pushed to the sandbox registry: its pull fails."""


def remediate(
    acts: KubernetesActivities,
    namespace: str,
    kind: ActionKind,
    workload_kind: str,
    name: str,
    incident: str = "inc-1",
    **fields: Any,
) -> RemediationResult:
    action = RemediationAction(
        kind=kind, namespace=namespace, deployment=name, workload_kind=workload_kind, **fields
    )
    result: RemediationResult = ActivityEnvironment().run(
        acts.apply_remediation, RemediationRequest(incident_id=incident, action=action)
    )
    return result


def daemon_set(name: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": pod_template(
                {"app": name},
                containers=[{"name": "agent", "image": image}],
            ),
        },
    }


def cron_job(name: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {
            "schedule": "0 3 * * *",
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 1,
                    "template": pod_template(
                        {"app": name},
                        restartPolicy="Never",
                        containers=[
                            {
                                "name": "report",
                                "image": image,
                                "command": ["sh", "-c", "echo report written"],
                            }
                        ],
                    ),
                }
            },
        },
    }


def rolled_out(acts: KubernetesActivities, namespace: str, kind: str, name: str) -> str:
    result = ActivityEnvironment().run(
        acts.wait_rollout,
        RolloutRequest(
            incident_id="inc-1",
            namespace=namespace,
            deployment=name,
            kind=kind,
            timeout=timedelta(seconds=20),
        ),
    )
    assert result.complete, result.message
    return str(result.message)


def image_patch(container: str, image: str) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": [{"name": container, "image": image}]}}}}


def test_a_daemonset_patched_to_a_missing_image_is_rolled_back_to_its_previous_revision(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    apps = client.AppsV1Api(api_client)
    create(api_client, namespace, daemon_set("log-agent", AGENT))
    acts = activities()
    rolled_out(acts, namespace, "DaemonSet", "log-agent")

    bad = remediate(
        acts,
        namespace,
        ActionKind.PATCH,
        "DaemonSet",
        "log-agent",
        patch=image_patch("agent", MISSING_AGENT),
    )
    assert bad.applied and (bad.previous_revision, bad.revision) == (1, 2)
    again = remediate(
        acts,
        namespace,
        ActionKind.PATCH,
        "DaemonSet",
        "log-agent",
        patch=image_patch("agent", MISSING_AGENT),
    )
    assert again.description.startswith("patch already applied for incident inc-1")

    undone = remediate(
        acts,
        namespace,
        ActionKind.ROLLBACK,
        "DaemonSet",
        "log-agent",
        revision=bad.previous_revision,
    )

    assert undone.applied, undone.description
    assert undone.description == (
        f"rolled back daemonset {namespace}/log-agent from revision 2 to revision 1's template"
    )
    template = apps.read_namespaced_daemon_set("log-agent", namespace).spec.template
    assert template.spec.containers[0].image == AGENT
    annotations = apps.read_namespaced_daemon_set("log-agent", namespace).metadata.annotations
    assert annotations[LAST_REMEDIATION].startswith("inc-1/")
    assert rolled_out(acts, namespace, "DaemonSet", "log-agent").endswith("successfully rolled out")
    # The controller renumbers the restored template's revision as the newest.
    assert undone.revision == 3


def test_a_statefulset_memory_patch_and_scale_reach_the_statefulset(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    apps = client.AppsV1Api(api_client)
    create(api_client, namespace, stateful_set("ledger", replicas=1))
    eventually(
        lambda: (
            status_of(apps.read_namespaced_stateful_set("ledger", namespace), "ready_replicas") == 1
        ),
        what="ledger ready",
    )
    acts = activities()
    limits = {"resources": {"limits": {"memory": "512Mi"}}}
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "main", **limits}]}}}}

    patched = remediate(acts, namespace, ActionKind.PATCH, "StatefulSet", "ledger", patch=patch)
    marked = apps.read_namespaced_stateful_set("ledger", namespace).metadata.annotations
    scaled = remediate(
        acts, namespace, ActionKind.SCALE, "StatefulSet", "ledger", incident="inc-2", replicas=2
    )

    assert patched.applied and (patched.previous_revision, patched.revision) == (1, 2)
    sts = apps.read_namespaced_stateful_set("ledger", namespace)
    assert sts.spec.template.spec.containers[0].resources.limits["memory"] == "512Mi"
    assert marked[PREVIOUS_REVISION] == "1" and marked[LAST_REMEDIATION].startswith("inc-1/")
    assert scaled.applied and scaled.description.endswith("from 1 to 2 replicas")
    assert sts.spec.replicas == 2
    eventually(
        lambda: (
            status_of(apps.read_namespaced_stateful_set("ledger", namespace), "ready_replicas") == 2
        ),
        timeout=30,
        what="ledger scaled to 2 ready replicas",
    )


def test_a_cronjob_is_patched_in_its_job_template_and_never_restarted_or_scaled(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    batch = client.BatchV1Api(api_client)
    create(api_client, namespace, cron_job("nightly-report", BUSYBOX))
    acts = activities()
    limits = {"resources": {"limits": {"memory": "256Mi"}}}
    patch = {
        "spec": {
            "jobTemplate": {
                "spec": {"template": {"spec": {"containers": [{"name": "report", **limits}]}}}
            }
        }
    }

    patched = remediate(acts, namespace, ActionKind.PATCH, "CronJob", "nightly-report", patch=patch)

    assert patched.applied and patched.description == f"patched cronjob {namespace}/nightly-report"
    assert (patched.previous_revision, patched.revision) == (None, None)
    cron = batch.read_namespaced_cron_job("nightly-report", namespace)
    container = cron.spec.job_template.spec.template.spec.containers[0]
    assert container.resources.limits["memory"] == "256Mi"
    for kind, fields in ((ActionKind.ROLLOUT_RESTART, {}), (ActionKind.SCALE, {"replicas": 2})):
        with pytest.raises(ApplicationError) as refused:
            remediate(
                acts, namespace, kind, "CronJob", "nightly-report", incident="inc-3", **fields
            )
        assert refused.value.non_retryable and "cronjob" in refused.value.message
    with pytest.raises(ApplicationError) as no_history:
        remediate(
            acts, namespace, ActionKind.ROLLBACK, "CronJob", "nightly-report", incident="inc-4"
        )
    assert no_history.value.type == "RevisionNotFound"


def test_a_statefulset_pod_broken_by_the_old_template_is_evicted_so_the_fix_rolls_out(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    """Kubernetes' forced rollback: OrderedReady replaces no pod that is not Ready, so the
    OOMKilled pod would hold the fixed template back for ever."""
    manifest = stateful_set("ledger", replicas=1)
    manifest["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "limits": {"memory": "64Mi"}  # ledger's working set is about 90Mi
    }
    create(api_client, namespace, manifest)
    core = client.CoreV1Api(api_client)

    def oom_killed() -> bool:
        listed = core.list_namespaced_pod(namespace, label_selector="app=ledger").items
        return any(
            ((s.get("lastState") or {}).get("terminated") or {}).get("reason") == "OOMKilled"
            for pod in api_client.sanitize_for_serialization(listed)
            for s in (pod.get("status") or {}).get("containerStatuses") or []
        )

    eventually(oom_killed, timeout=30, what="ledger-0 OOMKilled")
    acts = activities()
    limits = {"resources": {"limits": {"memory": "256Mi"}}}
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "main", **limits}]}}}}
    remediate(acts, namespace, ActionKind.PATCH, "StatefulSet", "ledger", patch=patch)

    message = rolled_out(acts, namespace, "StatefulSet", "ledger")

    assert "evicted ledger-0: pods the old template had broken" in message, message
    pod = core.read_namespaced_pod("ledger-0", namespace)
    assert pod.spec.containers[0].resources.limits["memory"] == "256Mi"


def test_only_not_ready_pods_of_an_older_revision_hold_a_rollout() -> None:
    def pod(name: str, revision: str, ready: bool, phase: str = "Running") -> dict[str, Any]:
        return {
            "metadata": {"name": name, "labels": {"controller-revision-hash": revision}},
            "status": {
                "phase": phase,
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            },
        }

    sts: dict[str, Any] = {
        "metadata": {"generation": 2},
        "spec": {},
        "status": {"observedGeneration": 2, "updateRevision": "ledger-new"},
    }
    pods = [
        pod("ledger-0", "ledger-old", ready=True),
        pod("ledger-1", "ledger-old", ready=False),
        pod("ledger-2", "ledger-new", ready=False),
        pod("ledger-3", "ledger-old", ready=True, phase="Pending"),
    ]
    assert [p["metadata"]["name"] for p in stuck_on_old_revision(sts, pods)] == [
        "ledger-1",
        "ledger-3",
    ]
    parallel = {**sts, "spec": {"podManagementPolicy": "Parallel"}}
    on_delete = {**sts, "spec": {"updateStrategy": {"type": "OnDelete"}}}
    unobserved = {**sts, "metadata": {"generation": 3}}
    for untouched in (parallel, on_delete, unobserved):
        assert stuck_on_old_revision(untouched, pods) == []


def run_now(api_client: client.ApiClient, namespace: str, cronjob: str, name: str) -> None:
    """Create a Job from the CronJob, as `kubectl create job NAME --from=cronjob/CRONJOB`."""
    batch = client.BatchV1Api(api_client)
    cron = api_client.sanitize_for_serialization(batch.read_namespaced_cron_job(cronjob, namespace))
    owner = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "name": cronjob,
        "uid": cron["metadata"]["uid"],
        "controller": True,
    }
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
            "ownerReferences": [owner],
        },
        "spec": cron["spec"]["jobTemplate"]["spec"],
    }
    batch.create_namespaced_job(namespace, job)


def verify(acts: KubernetesActivities, namespace: str, seconds: float) -> Any:
    return ActivityEnvironment().run(
        acts.verify_health,
        HealthCheckRequest(
            incident_id="inc-1",
            namespace=namespace,
            deployment="nightly-report",
            kind="CronJob",
            window=timedelta(seconds=seconds),
        ),
    )


def test_a_fixed_cronjob_is_verified_by_its_next_run_and_never_called_healthy_before(
    api_client: client.ApiClient, namespace: str, activities: Activities
) -> None:
    create(api_client, namespace, cron_job("nightly-report", BUSYBOX))
    acts = activities()
    run_now(api_client, namespace, "nightly-report", "nightly-report-before")
    limits = {"resources": {"limits": {"memory": "256Mi"}}}
    patch = {
        "spec": {
            "jobTemplate": {
                "spec": {"template": {"spec": {"containers": [{"name": "report", **limits}]}}}
            }
        }
    }
    remediate(acts, namespace, ActionKind.PATCH, "CronJob", "nightly-report", patch=patch)

    rolled = rolled_out(acts, namespace, "CronJob", "nightly-report")
    before_any_run = verify(acts, namespace, 1)
    run_now(api_client, namespace, "nightly-report", "nightly-report-after")
    after_a_run = verify(acts, namespace, 20)

    assert rolled.startswith('cronjob "nightly-report" runs the fixed job template from its next')
    assert not before_any_run.healthy
    assert "not verified: no run with the fix has finished yet" in before_any_run.message
    assert "its next run will tell" in before_any_run.message
    assert after_a_run.healthy, after_a_run.message
    assert after_a_run.message == (
        f"cronjob {namespace}/nightly-report healthy: job nightly-report-after completed "
        "with the fix"
    )
