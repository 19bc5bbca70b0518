"""The distinctions a careful SRE makes, read off the diagnoses' evidence and fixes."""

from __future__ import annotations

from pathlib import Path

from selfheal.activities.analysis import diagnose_context
from selfheal.activities.fixes.registry import propose_fix
from selfheal.model.alerts import Alert
from selfheal.model.diagnosis import ActionKind, DiagnosisCategory, FixKind, FixLimits
from selfheal.snapshots import load_snapshot

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _diagnose(case: str, alert: Alert | None = None):  # type: ignore[no-untyped-def]
    context = load_snapshot(SCENARIOS / case)
    diagnosis = diagnose_context(alert, context)
    return context, diagnosis, propose_fix(diagnosis, context, FixLimits())


def test_oom_behind_crashloop_cites_last_state_not_the_backoff() -> None:
    _, diagnosis, fix = _diagnose("oom_killed/hidden_behind_crashloop")
    details = [e.detail for e in diagnosis.evidence]
    assert any("reason=OOMKilled exitCode=137" in d for d in details)
    assert any("reason=CrashLoopBackOff" in d for d in details)
    assert [(c.path, c.before, c.after) for c in fix.changes] == [
        ("spec.template.spec.containers[checkout].resources.limits.memory", "512Mi", "1Gi"),
        ("spec.template.spec.containers[checkout].resources.requests.memory", "512Mi", "1Gi"),
    ]


def test_sidecar_oom_raises_only_the_sidecar_memory() -> None:
    _, diagnosis, fix = _diagnose("oom_killed/sidecar_only")
    assert diagnosis.containers == ["log-shipper"]
    containers = fix.manifest_patch["spec"]["template"]["spec"]["containers"]
    assert containers == [
        {
            "name": "log-shipper",
            "resources": {"limits": {"memory": "128Mi"}, "requests": {"memory": "128Mi"}},
        }
    ]


def test_memory_at_cap_is_left_to_a_person() -> None:
    _, diagnosis, fix = _diagnose("oom_killed/at_memory_cap")
    assert diagnosis.suggested_fix == FixKind.INCREASE_MEMORY
    assert fix.kind == FixKind.NONE and "cap" in fix.rationale


def test_crash_from_new_rollout_rolls_back_to_previous_revision() -> None:
    _, diagnosis, fix = _diagnose("crash_loop/new_rollout")
    assert "started with the rollout of revision 5" in diagnosis.summary
    assert any("FATAL cannot start" in e.detail for e in diagnosis.evidence)
    assert fix.action is not None and fix.action.kind == ActionKind.ROLLBACK
    assert fix.action.revision == 4
    assert fix.risk.value == "medium"


def test_long_standing_crash_is_not_blamed_on_the_rollout() -> None:
    _, diagnosis, fix = _diagnose("crash_loop/long_standing")
    assert "not new with the latest rollout" in diagnosis.summary
    assert any("nil pointer dereference" in e.detail for e in diagnosis.evidence)
    assert fix.kind == FixKind.NONE


def test_missing_tag_and_registry_auth_are_told_apart() -> None:
    _, missing, _ = _diagnose("image_pull/tag_not_found")
    _, auth, auth_fix = _diagnose("image_pull/registry_auth_failure")
    assert "not found" in missing.summary
    assert "authentication" in auth.summary
    assert auth_fix.kind == FixKind.NONE and "imagePullSecrets" in auth.recommendation


def test_missing_secret_and_missing_key_are_told_apart() -> None:
    _, secret, _ = _diagnose("config_error/missing_secret")
    _, key, _ = _diagnose("config_error/missing_key")
    assert 'Secret "billing-db" does not exist' in secret.summary
    assert 'Secret "accounts-db" has no key "password"' in key.summary
    assert any(e.detail == "keys: db-password, username" for e in key.evidence)


def test_slow_start_and_wrong_path_get_different_probe_fixes() -> None:
    _, slow, slow_fix = _diagnose("probe_failure/slow_start")
    _, wrong, wrong_fix = _diagnose("probe_failure/wrong_path")
    assert "before it finishes starting" in slow.summary
    assert "404" in wrong.summary
    slow_probe = slow_fix.manifest_patch["spec"]["template"]["spec"]["containers"][0]
    assert slow_probe["livenessProbe"]["initialDelaySeconds"] >= 90
    wrong_probe = wrong_fix.manifest_patch["spec"]["template"]["spec"]["containers"][0]
    assert wrong_probe == {"name": "profile", "livenessProbe": {"httpGet": {"path": "/healthz"}}}


def test_full_cluster_and_placement_rules_recommend_different_actions() -> None:
    _, full, _ = _diagnose("unschedulable/insufficient_cpu")
    _, placement, _ = _diagnose("unschedulable/taint_and_affinity")
    assert "capacity" in full.recommendation
    assert "tolerations" in placement.recommendation


def test_scale_down_needs_history_and_is_capped() -> None:
    context, diagnosis, fix = _diagnose("replica_shortage/scaled_to_zero")
    assert fix.action is not None and fix.action.replicas == 3
    capped = propose_fix(diagnosis, context, FixLimits(max_replicas=2))
    assert capped.action is not None and capped.action.replicas == 2


def test_healthy_workload_is_no_fault_whatever_the_alert_claims() -> None:
    alert = Alert(name="KubePodCrashLooping", namespace="shop", workload="checkout")
    _, diagnosis, fix = _diagnose("unknown/healthy_forged_alert", alert)
    assert not diagnosis.fault_found
    assert diagnosis.category == DiagnosisCategory.UNKNOWN
    assert "No fault found" in diagnosis.summary
    assert fix.kind == FixKind.NONE and fix.action is None
