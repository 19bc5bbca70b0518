"""cpu_throttling is read from the metrics alone: throttled now and on average, at a limit
the workload sets; never without metrics, below the threshold, or over a crash of its own."""

from __future__ import annotations

from pathlib import Path

from selfheal.activities.analysis import diagnose_context
from selfheal.activities.fixes.registry import propose_fix
from selfheal.contracts.kubernetes import ClusterContext
from selfheal.model.diagnosis import DiagnosisCategory, FixKind, FixLimits
from selfheal.snapshots import load_snapshot

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios" / "cpu_throttling"


def with_ratios(context: ClusterContext, ratio: float, last: float | None = None) -> None:
    """Set every sample of every container's throttled ratio (the newest to `last`)."""
    assert context.metrics is not None
    for container in context.metrics.containers:
        points = [(t, ratio) for t, _ in container.cpu_throttled_ratio]
        if last is not None:
            points[-1] = (points[-1][0], last)
        container.cpu_throttled_ratio = points


def test_a_pinned_limit_is_throttling_with_the_metrics_as_evidence():
    context = load_snapshot(SCENARIOS / "pinned_at_10m")
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.CPU_THROTTLING
    assert "100% of CFS periods throttled now" in diagnosis.evidence[0].detail
    assert "limits.cpu=10m" in diagnosis.evidence[-1].detail
    proposal = propose_fix(diagnosis, context, FixLimits())
    assert proposal.kind == FixKind.INCREASE_CPU
    assert [(c.before, c.after) for c in proposal.changes] == [("10m", "20m"), ("10m", "20m")]


def test_without_metrics_the_pods_look_healthy():
    context = load_snapshot(SCENARIOS / "pinned_at_10m")
    context.metrics = None
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category != DiagnosisCategory.CPU_THROTTLING
    assert not diagnosis.fault_found


def test_throttling_below_a_quarter_or_only_in_the_past_is_not_a_fault():
    context = load_snapshot(SCENARIOS / "pinned_at_10m")
    with_ratios(context, 0.2)
    assert diagnose_context(None, context).category != DiagnosisCategory.CPU_THROTTLING
    with_ratios(context, 1.0, last=0.0)  # it stopped
    assert diagnose_context(None, context).category != DiagnosisCategory.CPU_THROTTLING


def test_a_liveness_kill_of_a_starved_container_is_throttling_not_a_probe_to_relax():
    context = load_snapshot(SCENARIOS / "slow_start_killed_by_liveness")
    assert diagnose_context(None, context).category == DiagnosisCategory.CPU_THROTTLING
    context.metrics = None
    assert diagnose_context(None, context).category == DiagnosisCategory.PROBE_FAILURE


def test_a_container_that_exits_on_its_own_is_left_to_the_crash_rules():
    context = load_snapshot(SCENARIOS / "slow_start_killed_by_liveness")
    for pod in context.pods:
        for status in pod["status"]["containerStatuses"]:
            terminated = (status.get("lastState") or {}).get("terminated")
            if terminated:
                terminated.update(exitCode=1, reason="Error")
    assert diagnose_context(None, context).category != DiagnosisCategory.CPU_THROTTLING


def test_a_limit_from_the_namespace_default_gets_no_automatic_fix():
    context = load_snapshot(SCENARIOS / "sidecar_only")
    assert context.deployment is not None
    for container in context.deployment["spec"]["template"]["spec"]["containers"]:
        container["resources"]["limits"].pop("cpu")
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.CPU_THROTTLING
    assert diagnosis.suggested_fix == FixKind.NONE and "LimitRange" in diagnosis.recommendation
    assert propose_fix(diagnosis, context, FixLimits()).kind == FixKind.NONE
