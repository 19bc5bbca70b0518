"""Every scenario snapshot diagnoses to its expected category and fix kind; fixes stay allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from selfheal.activities.analysis import diagnose_context
from selfheal.activities.fixes.allow_list import validate_proposal
from selfheal.activities.fixes.registry import propose_fix
from selfheal.model.alerts import Alert
from selfheal.model.diagnosis import DiagnosisCategory, FixKind, FixLimits
from selfheal.snapshots import load_snapshot

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
CASES = sorted(path.parent for path in SCENARIOS.glob("*/*/expected.yaml"))


def _alert(path: Path) -> Alert | None:
    file = path / "alert.yaml"
    return Alert.model_validate(yaml.safe_load(file.read_text())) if file.exists() else None


def test_every_category_has_several_scenarios() -> None:
    categories = [path.parent.name for path in CASES]
    for category in DiagnosisCategory:
        assert categories.count(category.value) >= 3, category


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_scenario_diagnoses_to_expected_category_and_fix(path: Path) -> None:
    expected = yaml.safe_load((path / "expected.yaml").read_text())
    context = load_snapshot(path)
    diagnosis = diagnose_context(_alert(path), context)
    proposal = propose_fix(diagnosis, context, FixLimits())

    assert diagnosis.category == DiagnosisCategory(expected["category"]), diagnosis.summary
    assert proposal.kind == FixKind(expected["fix"]), proposal.rationale
    assert diagnosis.fault_found == expected.get("fault_found", True)
    if "containers" in expected:
        assert diagnosis.containers == expected["containers"]
    assert diagnosis.summary and diagnosis.recommendation
    if diagnosis.fault_found:
        assert diagnosis.evidence, "a diagnosis must cite what it relied on"
    assert validate_proposal(proposal, context, FixLimits()) == []
    if proposal.kind == FixKind.NONE:
        assert proposal.action is None and not proposal.manifest_patch
    else:
        assert proposal.action is not None and proposal.changes


@pytest.mark.parametrize("path", CASES[::4], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fix_proposal_is_deterministic(path: Path) -> None:
    context = load_snapshot(path)
    first = propose_fix(diagnose_context(None, context), context, FixLimits())
    again = propose_fix(
        diagnose_context(None, load_snapshot(path)), load_snapshot(path), FixLimits()
    )
    assert first.model_dump_json() == again.model_dump_json()
