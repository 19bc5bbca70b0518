"""Chaos injected into the sandbox cluster diagnoses right when read over HTTP, as live."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from kubernetes import client

from selfheal.activities.analysis import diagnose_context
from selfheal.activities.fixes.allow_list import validate_proposal
from selfheal.activities.fixes.registry import propose_fix
from selfheal.activities.kubernetes.client import ClusterConnection
from selfheal.activities.kubernetes.context import collect_workload_objects
from selfheal.chaos.injection import inject
from selfheal.chaos.scenarios import SCENARIOS
from selfheal.model.diagnosis import Diagnosis, FixLimits, FixProposal
from selfheal.snapshots import context_from_objects
from selfheal_lab.sandbox.kube import KubeSandbox, Timing


@pytest.fixture
def api() -> Iterator[client.ApiClient]:
    with KubeSandbox(timing=Timing(tick=0.05, scale=0.02), progress_scale=0.01) as cluster:
        cluster.wait_for_available(timeout=15)
        configuration = client.Configuration()
        configuration.host = cluster.url
        with client.ApiClient(configuration) as api_client:
            yield api_client


def _diagnose_live(
    api: client.ApiClient, deployment: str
) -> tuple[Diagnosis, FixProposal, list[str]]:
    got = collect_workload_objects(ClusterConnection(api_client=api), "demo", deployment, 50)
    context = context_from_objects(got.objects, got.logs, got.previous_logs, "demo", deployment)
    diagnosis = diagnose_context(None, context)
    fix = propose_fix(diagnosis, context, FixLimits())
    return diagnosis, fix, validate_proposal(fix, context, FixLimits())


@pytest.mark.parametrize("name", ["oom", "replica-shortage"])
def test_sandbox_chaos_diagnoses_to_the_catalogue_category(
    api: client.ApiClient, name: str
) -> None:
    scenario = SCENARIOS[name]
    injection = inject(api, name, namespace="demo")
    deadline = time.monotonic() + 10
    while True:
        diagnosis, fix, refusals = _diagnose_live(api, injection.workload)
        matched = (
            diagnosis.category.value == scenario.category and fix.kind.value == scenario.fix_kind
        )
        if matched or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert (diagnosis.category.value, fix.kind.value) == (scenario.category, scenario.fix_kind), (
        diagnosis.summary
    )
    assert refusals == []


def test_a_rollout_refused_by_pod_security_diagnoses_as_stuck_naming_the_refusal(
    api: client.ApiClient,
) -> None:
    scenario = SCENARIOS["rollout-stuck"]
    injection = inject(api, "rollout-stuck", namespace="demo")
    deadline = time.monotonic() + 15
    while True:
        diagnosis, fix, refusals = _diagnose_live(api, injection.workload)
        if diagnosis.category.value == scenario.category or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert (diagnosis.category.value, fix.kind.value) == (scenario.category, scenario.fix_kind), (
        diagnosis.summary
    )
    assert diagnosis.summary.startswith(
        "Rollout stuck: PodSecurity baseline:latest refuses the new pod template: privileged "
        '(container "checkout" must not set securityContext.privileged=true)'
    ), diagnosis.summary
    assert "revision 1 still serves 2 ready pod(s)" in diagnosis.summary
    # What the escalation tells a person to change: the level and the check that failed.
    assert diagnosis.recommendation.startswith(
        "Make the pod template meet the namespace's PodSecurity level (baseline:latest), which "
        'refuses: privileged (container "checkout" must not set securityContext.privileged=true).'
    ), diagnosis.recommendation
    assert any(e.source.startswith("event") for e in diagnosis.evidence)
    assert refusals == []
