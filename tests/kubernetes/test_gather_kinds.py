"""gather_context reads every workload kind live: what it owns, its claims, the namespace's
quotas and limit ranges, and no node (nothing cluster-wide is granted)."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from selfheal.activities.kubernetes.activities import KubernetesActivities
from selfheal.activities.kubernetes.members import read_namespace_limits
from selfheal.activities.remedy import OfflineAnalysisActivities
from selfheal.contracts.analysis import AnalysisRequest
from selfheal.contracts.kubernetes import ClusterContext, ContextRequest
from selfheal.kube_objects import name_of
from selfheal.model.alerts import Alert
from selfheal.model.diagnosis import DiagnosisCategory, FixKind, FixLimits
from selfheal_lab.sandbox.kube import KubeSandbox
from selfheal_lab.sandbox.kube.cronjobs import trigger
from tests.kubernetes.workloads import (
    BUSYBOX,
    LEDGER,
    create,
    deployment,
    eventually,
    pod_template,
    stateful_set,
    status_of,
)

Build = Callable[..., KubernetesActivities]


def request(namespace: str, name: str, kind: str) -> ContextRequest:
    return ContextRequest(
        incident_id=f"inc-{name}-test-00000000",
        cluster="sandbox",
        namespace=namespace,
        workload=name,
        kind=kind,
    )


def gather(activities: Build, namespace: str, name: str, kind: str) -> ClusterContext:
    return ActivityEnvironment().run(activities().gather_context, request(namespace, name, kind))


def names(objects: list[dict[str, Any]]) -> list[str]:
    return sorted(name_of(obj) for obj in objects)


def namespace_limits() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "compute"},
            "spec": {"hard": {"pods": "20", "limits.memory": "8Gi"}},
        },
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {"name": "defaults"},
            "spec": {"limits": [{"type": "Container", "default": {"memory": "256Mi"}}]},
        },
    ]


def test_statefulset_context_has_its_revisions_claims_quotas_and_no_nodes(
    api_client: client.ApiClient, namespace: str, activities: Build
) -> None:
    for obj in namespace_limits():
        create(api_client, namespace, obj)
    create(api_client, namespace, stateful_set("ledger", replicas=2))
    # A neighbour whose pods must not be taken for the StatefulSet's.
    create(api_client, namespace, deployment("checkout", replicas=1))
    apps = client.AppsV1Api(api_client)
    eventually(
        lambda: (
            status_of(apps.read_namespaced_stateful_set("ledger", namespace), "ready_replicas") == 2
        ),
        what="both ledger pods ready",
    )

    context = gather(activities, namespace, "ledger", "StatefulSet")

    assert context.kind == "StatefulSet" and context.deployment is None
    assert context.controller is not None and context.controller["kind"] == "StatefulSet"
    assert names(context.pods) == ["ledger-0", "ledger-1"]
    assert context.replicasets == []
    assert context.controller_revisions
    assert {rev["kind"] for rev in context.controller_revisions} == {"ControllerRevision"}
    assert all(
        ref["name"] == "ledger"
        for rev in context.controller_revisions
        for ref in rev["metadata"]["ownerReferences"]
    )
    assert names(context.persistent_volume_claims) == ["data-ledger-0", "data-ledger-1"]
    assert names(context.resource_quotas) == ["compute"]
    assert names(context.limit_ranges) == ["defaults"]
    assert context.nodes == []  # cluster-scoped: the worker may not read them
    subjects = {event["involvedObject"]["name"] for event in context.events}
    assert "ledger" in subjects and "checkout" not in subjects
    assert not any(subject.startswith("checkout-") for subject in subjects)
    assert context.cluster == "sandbox"


def test_a_claim_that_cannot_bind_is_read_with_its_events(
    api_client: client.ApiClient, namespace: str, activities: Build
) -> None:
    create(api_client, namespace, stateful_set("vault", replicas=1, storage_class="missing"))
    core = client.CoreV1Api(api_client)
    eventually(
        lambda: (
            core.list_namespaced_event(
                namespace, field_selector="involvedObject.name=data-vault-0"
            ).items
        ),
        what="an event about the unbound claim",
    )

    context = gather(activities, namespace, "vault", "StatefulSet")

    assert names(context.persistent_volume_claims) == ["data-vault-0"]
    assert context.persistent_volume_claims[0]["status"]["phase"] == "Pending"
    claim_events = [
        event
        for event in context.events
        if event["involvedObject"]["kind"] == "PersistentVolumeClaim"
    ]
    assert claim_events and claim_events[0]["involvedObject"]["name"] == "data-vault-0"


def test_daemonset_context_has_a_pod_per_node_and_its_revisions(
    api_client: client.ApiClient, namespace: str, activities: Build
) -> None:
    create(
        api_client,
        namespace,
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "log-agent"},
            "spec": {
                "selector": {"matchLabels": {"app": "log-agent"}},
                "template": pod_template(
                    {"app": "log-agent"},
                    containers=[{"name": "agent", "image": "ghcr.io/acme/probe:1.0"}],
                ),
            },
        },
    )
    apps = client.AppsV1Api(api_client)
    eventually(
        lambda: (
            status_of(apps.read_namespaced_daemon_set("log-agent", namespace), "number_ready") == 3
        ),
        what="log-agent on every node",
    )

    context = gather(activities, namespace, "log-agent", "DaemonSet")

    assert context.kind == "DaemonSet"
    assert context.controller is not None and name_of(context.controller) == "log-agent"
    assert len(context.pods) == 3
    assert len({pod["spec"]["nodeName"] for pod in context.pods}) == 3
    assert len(context.controller_revisions) == 1
    assert context.nodes == []


def test_cronjob_alert_is_analysed_from_its_failed_job(
    sandbox: KubeSandbox, api_client: client.ApiClient, namespace: str, activities: Build
) -> None:
    create(
        api_client,
        namespace,
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "nightly-report"},
            "spec": {
                "schedule": "0 2 * * *",
                "jobTemplate": {
                    "spec": {
                        "backoffLimit": 1,
                        "template": pod_template(
                            {"app": "nightly-report"},
                            restartPolicy="Never",
                            containers=[
                                {
                                    "name": "report",
                                    "image": BUSYBOX,
                                    "command": ["sh", "-c", "echo cannot write report; exit 2"],
                                }
                            ],
                        ),
                    }
                },
            },
        },
    )
    trigger(sandbox.store, namespace, "nightly-report", "nightly-report-manual")
    # Another Job in the namespace, owned by nothing: not the CronJob's.
    create(
        api_client,
        namespace,
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "migrate"},
            "spec": {
                "template": pod_template(
                    {"app": "migrate"},
                    restartPolicy="Never",
                    containers=[{"name": "m", "image": BUSYBOX, "command": ["sh", "-c", "true"]}],
                )
            },
        },
    )
    batch = client.BatchV1Api(api_client)

    def failed() -> bool:
        conditions = status_of(
            batch.read_namespaced_job("nightly-report-manual", namespace), "conditions"
        )
        return any(c.type == "Failed" and c.status == "True" for c in conditions or [])

    eventually(failed, what="the CronJob's Job to fail")

    context = gather(activities, namespace, "nightly-report", "CronJob")
    assert context.kind == "CronJob"
    assert names(context.jobs) == ["nightly-report-manual"]
    assert len(context.pods) == 2  # backoffLimit 1: two attempts
    assert all(
        pod["metadata"]["labels"]["job-name"] == "nightly-report-manual" for pod in context.pods
    )
    assert any(
        event["reason"] == "BackoffLimitExceeded"
        and event["message"] == "Job has reached the specified backoff limit"
        for event in context.events
    )
    assert any("cannot write report" in text for text in context.logs.values())

    # The rules path reads the kind from the alert it is given: the workflow's request
    # names only the namespace and the name.
    alert = Alert(
        name="KubeJobFailed",
        cluster="sandbox",
        namespace=namespace,
        workload="nightly-report",
        kind="CronJob",
    )
    analyze = OfflineAnalysisActivities(activities().gather_context, FixLimits()).analyze_workload
    workload = ContextRequest(
        incident_id="inc-nightly-report-test-00000000",
        cluster="sandbox",
        namespace=namespace,
        workload="nightly-report",
    )
    analysis = ActivityEnvironment().run(analyze, AnalysisRequest(alert=alert, workload=workload))
    assert analysis.diagnosis.category == DiagnosisCategory.JOB_FAILED
    assert analysis.fix is not None and analysis.fix.kind == FixKind.NONE


def test_bare_pod_context_is_the_pod_itself(
    api_client: client.ApiClient, namespace: str, activities: Build
) -> None:
    create(
        api_client,
        namespace,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "debug", "labels": {"app": "debug"}},
            "spec": {"containers": [{"name": "main", "image": LEDGER}]},
        },
    )

    context = gather(activities, namespace, "debug", "Pod")

    assert context.kind == "Pod"
    assert context.deployment is None and context.controller is None
    assert names(context.pods) == ["debug"]
    assert context.workload_object() is not None


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"])
def test_a_missing_workload_is_named_with_its_kind(
    namespace: str, activities: Build, kind: str
) -> None:
    with pytest.raises(ApplicationError) as caught:
        gather(activities, namespace, "ghost", kind)
    assert caught.value.type == f"{kind}NotFound"
    assert caught.value.non_retryable
    assert caught.value.message == f"{kind.lower()} ghost not found in namespace {namespace}"


class Refusing:
    """A CoreV1Api whose quota and limit range lists the apiserver answers with `status`."""

    def __init__(self, status: int) -> None:
        self.status = status

    def list_namespaced_resource_quota(self, *args: Any, **kwargs: Any) -> Any:
        raise ApiException(status=self.status, reason="refused")

    list_namespaced_limit_range = list_namespaced_resource_quota


def test_quotas_a_role_bound_earlier_does_not_grant_are_left_out() -> None:
    forbidden = SimpleNamespace(core=lambda: Refusing(403))
    assert read_namespace_limits(forbidden, "shop") == []  # type: ignore[arg-type]
    failing = SimpleNamespace(core=lambda: Refusing(500))
    with pytest.raises(ApplicationError) as caught:
        read_namespace_limits(failing, "shop")  # type: ignore[arg-type]
    assert caught.value.type == "KubernetesUnavailable"
