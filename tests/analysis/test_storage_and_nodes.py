"""Storage and node failures: which messages count, what is history, and that nothing is fixed."""

from __future__ import annotations

from pathlib import Path

import pytest

from selfheal.activities.analysis import diagnose_context
from selfheal.activities.fixes.registry import propose_fix
from selfheal.contracts.kubernetes import ClusterContext
from selfheal.model.diagnosis import DiagnosisCategory, FixKind, FixLimits
from selfheal.snapshots import load_snapshot

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _load(case: str) -> ClusterContext:
    return load_snapshot(SCENARIOS / case)


def _set_messages(context: ClusterContext, reason: str, message: str) -> None:
    for event in context.events:
        if event["reason"] == reason:
            event["message"] = message
    for pod in context.pods:
        for condition in pod["status"].get("conditions") or []:
            if condition["type"] == "PodScheduled" and condition["status"] == "False":
                condition["message"] = message


@pytest.mark.parametrize(
    ("message", "phrase"),
    [
        (
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had volume node affinity "
            "conflict. preemption: 0/3 nodes are available: 3 Preemption is not helpful for "
            "scheduling.",
            "no node can use their volumes",
        ),
        (
            '0/3 nodes are available: persistentvolumeclaim "ledger-data" is being deleted. '
            "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
            "PersistentVolumeClaim ledger-data is not bound",
        ),
        (
            'running "VolumeBinding" filter plugin for pod "ledger-0": pod has unbound '
            "immediate PersistentVolumeClaims",
            "PersistentVolumeClaim ledger-data is not bound",
        ),
    ],
)
def test_volume_scheduling_failures_are_storage_not_unschedulable(
    message: str, phrase: str
) -> None:
    context = _load("storage/unbound_claim")
    _set_messages(context, "FailedScheduling", message)
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.STORAGE
    assert phrase in diagnosis.summary


def test_the_kubelets_transient_not_registered_mount_error_is_no_storage_failure() -> None:
    context = _load("storage/nfs_mount_failed")
    _set_messages(
        context,
        "FailedMount",
        'MountVolume.SetUp failed for volume "kube-api-access-x2x7k" : object '
        '"shop"/"kube-root-ca.crt" not registered',
    )
    assert diagnose_context(None, context).category != DiagnosisCategory.STORAGE


def test_a_missing_configmap_mount_stays_a_config_error() -> None:
    diagnosis = diagnose_context(None, _load("config_error/missing_configmap_volume"))
    assert diagnosis.category == DiagnosisCategory.CONFIG_ERROR


def test_a_node_that_came_back_is_history() -> None:
    context = _load("node_failure/node_not_ready")
    for pod in context.pods:
        for condition in pod["status"]["conditions"]:
            condition["status"] = "True"
    assert context.deployment is not None
    context.deployment["status"].update(availableReplicas=3, readyReplicas=3)
    for condition in context.deployment["status"]["conditions"]:
        condition["status"] = "True"
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.UNKNOWN and not diagnosis.fault_found


def test_the_older_node_controller_eviction_wording_is_read() -> None:
    context = _load("node_failure/taint_eviction_terminating")
    for event in context.events:
        if event["reason"] == "TaintManagerEviction":
            name = event["involvedObject"]["name"]
            event["reason"] = "NodeControllerEviction"
            event["message"] = f"Marking for deletion Pod {name} from Node ip-10-0-3-88"
    for pod in context.pods:
        pod["status"]["conditions"] = [
            c for c in pod["status"]["conditions"] if c["type"] != "DisruptionTarget"
        ]
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.NODE_FAILURE
    assert "stuck Terminating" in diagnosis.summary


@pytest.mark.parametrize(
    "case", ["storage/multi_attach", "node_failure/node_not_ready", "node_failure/node_lost"]
)
def test_no_automatic_fix(case: str) -> None:
    context = _load(case)
    diagnosis = diagnose_context(None, context)
    forced = diagnosis.model_copy(update={"suggested_fix": FixKind.RESTART})
    proposal = propose_fix(forced, context, FixLimits())
    assert proposal.kind == FixKind.NONE
    assert f"No automatic fix for {diagnosis.category}" in proposal.rationale
