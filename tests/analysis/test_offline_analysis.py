"""analyze_workload answers what gather → diagnose → propose_fix would, in one activity."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from selfheal.activities.analysis import diagnose_context
from selfheal.activities.remedy import OfflineAnalysisActivities, safe_fix
from selfheal.contracts.analysis import AnalysisRequest
from selfheal.contracts.kubernetes import MANIFEST_ANNOTATION, ClusterContext, ContextRequest
from selfheal.model.alerts import Alert, AlertSource
from selfheal.model.diagnosis import FixLimits
from selfheal.snapshots import load_snapshot

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
CASES = sorted(path.parent for path in SCENARIOS.glob("*/*/expected.yaml"))


class SnapshotSource:
    """A context source answering from one snapshot and recording what it was asked."""

    def __init__(self, context: ClusterContext) -> None:
        self.context = context
        self.asked: list[ContextRequest] = []

    def __call__(self, request: ContextRequest) -> ClusterContext:
        self.asked.append(request)
        return self.context


def analysis_request(context: ClusterContext) -> AnalysisRequest:
    alert = Alert(
        source=AlertSource.GENERIC,
        name="KubePodCrashLooping",
        namespace=context.namespace,
        workload=context.workload,
    )
    return AnalysisRequest(
        alert=alert,
        workload=ContextRequest(
            incident_id="inc-offline-test-00000000",
            cluster="sandbox",
            namespace=context.namespace,
            workload=context.workload,
        ),
    )


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_one_step_analysis_equals_the_three_steps(path: Path) -> None:
    context = load_snapshot(path)
    source = SnapshotSource(context)
    request = analysis_request(context)

    analysis = ActivityEnvironment().run(
        OfflineAnalysisActivities(source, FixLimits()).analyze_workload, request
    )

    diagnosis = diagnose_context(request.alert, context)
    assert analysis.diagnosis == diagnosis
    if diagnosis.fault_found:
        assert analysis.fix == safe_fix(diagnosis, context, FixLimits())
    else:
        assert analysis.fix is None
    assert analysis.no_fix is None
    assert [(r.incident_id, r.cluster, r.namespace, r.workload) for r in source.asked] == [
        (request.incident_id, "sandbox", context.namespace, context.workload)
    ]


def test_the_manifest_annotation_comes_back_with_the_analysis() -> None:
    context = load_snapshot(SCENARIOS / "oom_killed" / "sandbox_oom")
    assert context.deployment is not None
    annotated = context.model_copy(deep=True)
    assert annotated.deployment is not None
    annotated.deployment["metadata"].setdefault("annotations", {})[MANIFEST_ANNOTATION] = (
        "apps/checkout/deployment.yaml"
    )
    activity = OfflineAnalysisActivities(SnapshotSource(annotated), FixLimits()).analyze_workload

    analysis = ActivityEnvironment().run(activity, analysis_request(annotated))

    assert analysis.manifest_path == "apps/checkout/deployment.yaml"
    assert analysis.fix is not None and analysis.fix.actionable
