"""Evictions: what the kubelet's message says, and that an old eviction is history."""

from __future__ import annotations

from pathlib import Path

from selfheal.activities.analysis import diagnose_context
from selfheal.activities.analysis.evicted import Eviction
from selfheal.activities.fixes.registry import propose_fix
from selfheal.model.diagnosis import DiagnosisCategory, FixKind, FixLimits
from selfheal.snapshots import load_snapshot

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def test_both_kubelet_wordings_name_the_container_usage_and_request() -> None:
    new = Eviction(
        "p",
        "n",
        "The node was low on resource: memory. Threshold quantity: 100Mi, available: 80Mi. "
        "Container app was using 900Mi, request is 256Mi, has larger consumption of memory.",
        "",
    )
    old = Eviction(
        "p",
        "n",
        "The node was low on resource: memory. Container app was using 900Mi, which exceeds "
        "its request of 256Mi.",
        "",
    )
    for eviction in (new, old):
        assert eviction.resource == "memory"
        assert eviction.offenders == [("app", "900Mi", "256Mi")]


def test_memory_pressure_cites_the_message_the_usage_and_the_request() -> None:
    context = load_snapshot(SCENARIOS / "evicted" / "memory_pressure")
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.EVICTED
    assert "ran low on memory" in diagnosis.summary
    assert "used 924Mi against a request of 256Mi" in diagnosis.summary
    assert any(
        e.source.endswith("containers[recommender].resources")
        and "requests.memory=256Mi" in e.detail
        for e in diagnosis.evidence
    )
    assert any(e.source.startswith("event pod/") for e in diagnosis.evidence)
    fix = propose_fix(diagnosis, context, FixLimits())
    assert fix.kind == FixKind.NONE and "No automatic fix for evicted" in fix.rationale


def test_an_old_eviction_is_neither_an_eviction_nor_a_crash() -> None:
    diagnosis = diagnose_context(
        None, load_snapshot(SCENARIOS / "unknown" / "healthy_old_eviction")
    )
    assert diagnosis.category == DiagnosisCategory.UNKNOWN
    assert not diagnosis.fault_found
