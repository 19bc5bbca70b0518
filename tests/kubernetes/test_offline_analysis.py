"""analyze_workload over the sandbox cluster: the real gather, the rules, the fix generator."""

from __future__ import annotations

from collections.abc import Callable

from kubernetes import client
from temporalio.testing import ActivityEnvironment

from selfheal.activities.kubernetes.activities import KubernetesActivities
from selfheal.activities.remedy import OfflineAnalysisActivities
from selfheal.contracts.analysis import AnalysisRequest
from selfheal.contracts.kubernetes import MANIFEST_ANNOTATION, ContextRequest
from selfheal.model.alerts import Alert
from selfheal.model.diagnosis import DiagnosisCategory, FixKind, FixLimits
from tests.kubernetes.workloads import create, deployment, eventually, pods


def oom_killed(api_client: client.ApiClient, namespace: str) -> bool:
    return any(
        (s.get("lastState") or {}).get("terminated", {}).get("reason") == "OOMKilled"
        for pod in pods(api_client, namespace, "checkout")
        for s in pod["status"].get("containerStatuses") or []
    )


def test_an_oom_killed_deployment_is_diagnosed_and_given_its_memory_fix(
    api_client: client.ApiClient,
    namespace: str,
    activities: Callable[..., KubernetesActivities],
) -> None:
    manifest = deployment("checkout", memory="64Mi")
    manifest["metadata"]["annotations"] = {MANIFEST_ANNOTATION: "apps/checkout/deployment.yaml"}
    create(api_client, namespace, manifest)
    eventually(lambda: oom_killed(api_client, namespace), what="checkout to be OOMKilled")
    analyze = OfflineAnalysisActivities(activities().gather_context, FixLimits()).analyze_workload
    request = AnalysisRequest(
        alert=Alert(name="KubePodCrashLooping", namespace=namespace, workload="checkout"),
        workload=ContextRequest(
            incident_id="inc-checkout-oom-00000000",
            cluster="sandbox",
            namespace=namespace,
            workload="checkout",
        ),
    )

    analysis = ActivityEnvironment().run(analyze, request)

    assert analysis.diagnosis.category == DiagnosisCategory.OOM_KILLED
    assert analysis.fix is not None and analysis.fix.kind == FixKind.INCREASE_MEMORY
    assert analysis.fix.action is not None and analysis.fix.action.namespace == namespace
    assert "64Mi" in analysis.fix.rationale and "128Mi" in analysis.fix.rationale
    assert analysis.manifest_path == "apps/checkout/deployment.yaml"
