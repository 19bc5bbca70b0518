"""Rules read component messages whatever their case and padding, as `kubectl describe` shows
them (trailing spaces trimmed) or as another release words them (capitalised)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from selfheal.activities.analysis import diagnose_context
from selfheal.activities.analysis.messages import normalize, same
from selfheal.contracts.kubernetes import ClusterContext
from selfheal.kube_objects import Obj
from selfheal.model.diagnosis import DiagnosisCategory
from selfheal.snapshots import load_snapshot

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

Variant = Callable[[str], str]
VARIANTS: dict[str, Variant] = {
    "upper": str.upper,
    "lower": str.lower,
    "padded": lambda text: f"  {text}  \n",
    "combined": lambda text: f"(combined from similar events): {text}",
}


# Reasons and condition fields are never prefixed; only their case and padding vary.
FIELD_VARIANTS: dict[str, Variant] = {
    "upper": str.upper,
    "lower": str.lower,
    "padded": lambda text: f" {text} ",
    "combined": str,
}


def _events(context: ClusterContext, reason: str) -> list[Obj]:
    found = [event for event in context.events if event.get("reason") == reason]
    assert found, f"the snapshot has no {reason} event to vary"
    return found


def _vary_events(
    case: str,
    reason: str,
    variant: Variant,
    reason_variant: Variant | None = None,
) -> ClusterContext:
    context = load_snapshot(SCENARIOS / case)
    for event in _events(context, reason):
        event["message"] = variant(str(event["message"]))
        if reason_variant is not None:
            event["reason"] = reason_variant(reason)
    return context


def test_normalize_trims_collapses_and_drops_the_aggregation_prefix() -> None:
    raw = "(combined from similar events): The node was low on resource: memory.\n\tThreshold "
    assert normalize(raw) == "The node was low on resource: memory. Threshold"
    assert normalize(None) == ""
    assert same(" crashloopbackoff ", "CrashLoopBackOff")
    assert not same("CrashLoopBackOff", "BackOff")


@pytest.mark.parametrize(
    "message",
    [
        # `kubectl describe` trims the space after the colon when the probe printed nothing.
        "Liveness probe failed:HTTP probe failed with statuscode: 404",
        "Liveness probe failed:",
        "liveness probe failed: http probe failed with statusCode: 404",
        "LIVENESS PROBE FAILED: HTTP PROBE FAILED WITH STATUSCODE: 404   ",
    ],
)
def test_probe_messages_match_without_trailing_space_and_in_any_case(message: str) -> None:
    context = load_snapshot(SCENARIOS / "probe_failure" / "wrong_path")
    for event in _events(context, "Unhealthy"):
        event["message"] = message
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.PROBE_FAILURE, diagnosis.summary
    assert diagnosis.summary.startswith("Liveness probe of container profile")
    if "404" in message:
        assert "404" in diagnosis.summary


@pytest.mark.parametrize("variant", VARIANTS, ids=str)
def test_probe_reasons_and_kills_match_in_any_case(variant: str) -> None:
    context = _vary_events("probe_failure/slow_start", "Unhealthy", VARIANTS[variant])
    for event in _events(context, "Killing"):
        event["message"] = VARIANTS[variant](str(event["message"]))
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.PROBE_FAILURE
    assert "before it finishes starting" in diagnosis.summary


@pytest.mark.parametrize("variant", VARIANTS, ids=str)
def test_scale_down_history_is_read_in_any_case(variant: str) -> None:
    context = _vary_events(
        "replica_shortage/scaled_to_zero",
        "ScalingReplicaSet",
        VARIANTS[variant],
        reason_variant=FIELD_VARIANTS[variant],
    )
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.REPLICA_SHORTAGE
    assert diagnosis.hint is not None and diagnosis.hint.replicas_before == 3


@pytest.mark.parametrize("variant", VARIANTS, ids=str)
def test_missing_configmap_mount_is_read_in_any_case(variant: str) -> None:
    context = _vary_events(
        "config_error/missing_configmap_volume", "FailedMount", VARIANTS[variant]
    )
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.CONFIG_ERROR
    assert 'configmap "gateway-routes" does not exist' in diagnosis.summary.lower()


@pytest.mark.parametrize("variant", VARIANTS, ids=str)
def test_scheduler_messages_are_read_in_any_case(variant: str) -> None:
    context = _vary_events("unschedulable/insufficient_cpu", "FailedScheduling", VARIANTS[variant])
    for pod in context.pods:
        for condition in pod["status"]["conditions"]:
            condition["message"] = VARIANTS[variant](str(condition["message"]))
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.UNSCHEDULABLE
    assert "capacity" in diagnosis.recommendation


@pytest.mark.parametrize("variant", VARIANTS, ids=str)
def test_pull_errors_are_read_in_any_case(variant: str) -> None:
    context = _vary_events("image_pull/registry_auth_failure", "Failed", VARIANTS[variant])
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.IMAGE_PULL
    assert "authentication" in diagnosis.summary


def test_waiting_reasons_are_read_in_any_case() -> None:
    context = load_snapshot(SCENARIOS / "oom_killed" / "hidden_behind_crashloop")
    for pod in context.pods:
        for status in pod["status"]["containerStatuses"]:
            status["state"]["waiting"]["reason"] = "crashloopbackoff "
            status["lastState"]["terminated"]["reason"] = "oomkilled"
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.OOM_KILLED
    assert "restarting in CrashLoopBackOff" in diagnosis.summary


def _vary_conditions(context: ClusterContext, kind: str, variant: Variant) -> None:
    objects = [context.deployment, *context.replicasets, *context.pods]
    for obj in objects:
        for condition in (obj or {}).get("status", {}).get("conditions") or []:
            if condition.get("type") == kind and condition.get("message"):
                condition["message"] = variant(str(condition["message"]))


@pytest.mark.parametrize("variant", VARIANTS, ids=str)
def test_eviction_messages_are_read_in_any_case(variant: str) -> None:
    context = _vary_events("evicted/memory_pressure", "Evicted", VARIANTS[variant])
    for pod in context.pods:
        status = pod["status"]
        if status.get("reason") == "Evicted":
            status["message"] = VARIANTS[variant](status["message"])
            status["reason"] = "evicted"
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.EVICTED
    assert "ran low on memory" in diagnosis.summary.lower()


@pytest.mark.parametrize("variant", VARIANTS, ids=str)
def test_quota_refusals_are_read_in_any_case(variant: str) -> None:
    context = _vary_events("quota_exceeded/resourcequota_memory", "FailedCreate", VARIANTS[variant])
    _vary_conditions(context, "ReplicaFailure", VARIANTS[variant])
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.QUOTA_EXCEEDED
    assert "resourcequota shop-compute" in diagnosis.summary.lower()


def test_the_older_capitalised_quota_wording_is_read() -> None:
    context = _vary_events(
        "quota_exceeded/limitrange_max_memory",
        "FailedCreate",
        lambda text: text.replace("maximum", "Maximum").rstrip() + ".",
    )
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.QUOTA_EXCEEDED
    assert "1Gi memory per Container" in diagnosis.summary


@pytest.mark.parametrize("variant", VARIANTS, ids=str)
def test_volume_scheduling_messages_are_read_in_any_case(variant: str) -> None:
    context = _vary_events("storage/missing_claim", "FailedScheduling", VARIANTS[variant])
    _vary_conditions(context, "PodScheduled", VARIANTS[variant])
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.STORAGE
    assert "data-ledger-0 does not exist" in diagnosis.summary.lower()


@pytest.mark.parametrize("variant", VARIANTS, ids=str)
def test_node_controller_events_are_read_in_any_case(variant: str) -> None:
    context = _vary_events(
        "node_failure/node_not_ready",
        "NodeNotReady",
        VARIANTS[variant],
        reason_variant=FIELD_VARIANTS[variant],
    )
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.NODE_FAILURE
    assert "marked not ready" in diagnosis.summary


@pytest.mark.parametrize("variant", VARIANTS, ids=str)
def test_rollout_conditions_and_refusals_are_read_in_any_case(variant: str) -> None:
    context = _vary_events(
        "rollout_stuck/pod_security_restricted", "FailedCreate", VARIANTS[variant]
    )
    _vary_conditions(context, "ReplicaFailure", VARIANTS[variant])
    assert context.deployment is not None
    for condition in context.deployment["status"]["conditions"]:
        if condition["type"] == "Progressing":
            condition["reason"] = FIELD_VARIANTS[variant]("ProgressDeadlineExceeded")
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.ROLLOUT_STUCK
    assert "podsecurity restricted:latest" in diagnosis.summary.lower()
