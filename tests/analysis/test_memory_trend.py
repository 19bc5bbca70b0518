"""The metrics tell a leak from an undersized limit behind the same OOMKilled: different
recommendation, and a raised risk for the raise that is only a stopgap."""

from __future__ import annotations

from pathlib import Path

from selfheal.activities.analysis import diagnose_context
from selfheal.activities.analysis.memory_trend import Shape, memory_trend
from selfheal.activities.remedy import safe_fix
from selfheal.contracts.prometheus import ContainerMetrics
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory, FixKind, FixLimits, RiskLevel
from selfheal.snapshots import load_snapshot

OOM = Path(__file__).resolve().parent.parent / "scenarios" / "oom_killed"


def test_a_leak_gets_a_stopgap_raise_with_the_risk_raised():
    context = load_snapshot(OOM / "leak_grows_into_limit")
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.OOM_KILLED
    assert "memory leak" in diagnosis.recommendation
    assert diagnosis.evidence[-1].detail.startswith("grows steadily by about ")
    proposal = safe_fix(diagnosis, context, FixLimits())
    assert proposal.kind == FixKind.INCREASE_MEMORY and proposal.risk == RiskLevel.MEDIUM
    assert "A stopgap only" in proposal.rationale


def test_an_undersized_limit_gets_a_plain_raise():
    context = load_snapshot(OOM / "undersized_flat_at_limit")
    diagnosis = diagnose_context(None, context)
    assert "undersized" in diagnosis.recommendation
    assert "flat at the limit" in diagnosis.evidence[-1].detail
    proposal = safe_fix(diagnosis, context, FixLimits())
    assert proposal.kind == FixKind.INCREASE_MEMORY and proposal.risk == RiskLevel.LOW
    assert "stopgap" not in proposal.rationale


def test_without_metrics_the_same_oom_gets_the_old_advice():
    leak = load_snapshot(OOM / "leak_grows_into_limit")
    leak.metrics = None
    diagnosis = diagnose_context(None, leak)
    assert diagnosis.recommendation.startswith("Raise the memory limit (bounded), then check")
    assert safe_fix(diagnosis, leak, FixLimits()).risk == RiskLevel.LOW


def test_a_models_diagnosis_of_a_leak_gets_the_same_raised_risk():
    context = load_snapshot(OOM / "leak_grows_into_limit")
    model = Diagnosis(
        category=DiagnosisCategory.OOM_KILLED,
        summary="search is OOMKilled",
        containers=["search"],
        suggested_fix=FixKind.INCREASE_MEMORY,
        analyzer="claude",
    )
    assert safe_fix(model, context, FixLimits()).risk == RiskLevel.MEDIUM


def test_too_few_samples_or_a_quiet_working_set_say_nothing():
    limit = [(float(t), 1024.0) for t in range(10)]
    few = ContainerMetrics(
        container="a", memory_limit_bytes=limit, memory_working_set_bytes=limit[:3]
    )
    assert memory_trend(few) is None
    quiet = ContainerMetrics(
        container="a",
        memory_limit_bytes=limit,
        memory_working_set_bytes=[(float(t), 400.0 + t % 2) for t in range(10)],
    )
    assert memory_trend(quiet) is None
    flat = quiet.model_copy(
        update={"memory_working_set_bytes": [(float(t), 1000.0) for t in range(10)]}
    )
    trend = memory_trend(flat)
    assert trend is not None and trend.shape == Shape.UNDERSIZED
