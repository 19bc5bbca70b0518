"""Every workload kind through the offline analysis: which objects a context holds, the
view the rules read, the job_failed rule, and what a fix may change per kind."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from selfheal.activities.analysis import diagnose_context
from selfheal.activities.analysis.workload import WorkloadView
from selfheal.activities.claude.prompt import render_context
from selfheal.activities.fixes.allow_list import validate_proposal
from selfheal.activities.fixes.registry import propose_fix
from selfheal.activities.remedy import safe_fix
from selfheal.contracts.kubernetes import ClusterContext
from selfheal.kube_objects import kind_of, name_of
from selfheal.model.diagnosis import (
    ActionKind,
    DiagnosisCategory,
    FixKind,
    FixLimits,
    FixProposal,
    RemediationAction,
    RiskLevel,
)
from selfheal.snapshots import context_from_objects, load_snapshot, read_objects, write_snapshot
from selfheal.workload_tree import WorkloadNotFound

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
LIMITS = FixLimits()
BARE_POD = SCENARIOS / "oom_killed" / "pod_bare_oom"
CRONJOB = SCENARIOS / "job_failed" / "cronjob_backoff_limit"
CRONJOB_OOM = SCENARIOS / "oom_killed" / "cronjob_oom"
STATEFULSET = SCENARIOS / "image_pull" / "statefulset_image_pull"
DAEMONSET = SCENARIOS / "crash_loop" / "daemonset_crash_loop"
JOB = SCENARIOS / "job_failed" / "job_deadline_exceeded"


# --- what a context holds ---------------------------------------------------------------------


def test_a_bare_pod_is_its_own_workload() -> None:
    context = load_snapshot(BARE_POD)
    assert (context.kind, context.workload) == ("Pod", "debug-shell")
    assert context.deployment is None and context.controller is None
    assert [name_of(pod) for pod in context.pods] == ["debug-shell"]
    assert context.workload_object() is context.pods[0]


def test_a_cronjob_holds_its_jobs_and_their_pods() -> None:
    context = load_snapshot(CRONJOB)
    assert context.kind == "CronJob" and kind_of(context.controller or {}) == "CronJob"
    assert context.deployment is None
    jobs = [name_of(job) for job in context.jobs]
    assert len(jobs) == 2
    assert all(
        {ref["name"] for ref in pod["metadata"]["ownerReferences"]} <= set(jobs)
        for pod in context.pods
    )
    assert any(event["involvedObject"]["kind"] == "Job" for event in context.events)


def test_a_job_of_a_cronjob_can_be_named_instead() -> None:
    newest = max(name_of(job) for job in load_snapshot(CRONJOB).jobs)
    context = load_snapshot(CRONJOB, workload=newest, kind="Job")
    assert (context.kind, context.workload) == ("Job", newest)
    assert [name_of(job) for job in context.jobs] == [newest]
    assert len(context.pods) == 3


def test_a_statefulset_holds_its_controller_revisions_and_pods() -> None:
    context = load_snapshot(STATEFULSET)
    assert context.kind == "StatefulSet"
    assert len(context.controller_revisions) == 2
    assert sorted(name_of(pod) for pod in context.pods) == [
        "ledger-db-0",
        "ledger-db-1",
        "ledger-db-2",
    ]
    assert {name_of(node) for node in context.nodes} <= {
        pod["spec"].get("nodeName") for pod in context.pods
    }


def test_a_statefulset_keeps_its_claims_and_their_events() -> None:
    context = load_snapshot(SCENARIOS / "storage" / "statefulset_missing_storage_class")
    assert [name_of(claim) for claim in context.persistent_volume_claims] == ["data-ledger-db-0"]
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.STORAGE
    assert 'storageclass.storage.k8s.io "fast-ssd" not found' in diagnosis.summary


def test_kinds_are_told_apart_without_a_kind_field() -> None:
    for path in (CRONJOB, STATEFULSET, DAEMONSET, BARE_POD):
        for obj in read_objects(path):
            bare = {key: value for key, value in obj.items() if key != "kind"}
            assert kind_of(bare) == obj["kind"], (path.name, obj["kind"], name_of(obj))


def test_a_payload_of_before_the_kinds_loads_as_a_deployment() -> None:
    old = {"namespace": "shop", "workload": "checkout", "deployment": {"metadata": {}}}
    context = ClusterContext.model_validate(old)
    assert context.kind == "Deployment" and context.controller is None
    assert context.workload_object() == {"metadata": {}}
    assert context.jobs == context.controller_revisions == context.nodes == []


def test_two_top_level_workloads_are_refused_by_name(tmp_path: Path) -> None:
    write_snapshot(tmp_path, [*read_objects(BARE_POD), *read_objects(STATEFULSET)], {}, {})
    with pytest.raises(WorkloadNotFound) as refused:
        load_snapshot(tmp_path)
    assert "Pod/debug-shell" in str(refused.value)
    assert "StatefulSet/ledger-db" in str(refused.value)
    assert load_snapshot(tmp_path, kind="StatefulSet").workload == "ledger-db"
    assert load_snapshot(tmp_path, workload="debug-shell").kind == "Pod"
    with pytest.raises(WorkloadNotFound, match="DaemonSet"):
        load_snapshot(tmp_path, kind="DaemonSet")


def test_the_size_bound_cuts_a_statefulsets_spare_failing_pods() -> None:
    objects = read_objects(SCENARIOS / "oom_killed" / "statefulset_oom")
    pods = [obj for obj in objects if obj["kind"] == "Pod"]
    more = []
    for index in range(3, 40):
        pod = copy.deepcopy(pods[0])
        pod["metadata"]["name"] = f"ledger-db-{index}"
        more.append(pod)
    context = context_from_objects([*objects, *more], {}, {}, "shop", "ledger-db", max_bytes=40_000)
    assert context.truncated and len(context.model_dump_json().encode()) <= 40_000
    assert 3 <= len(context.pods) < 40
    assert diagnose_context(None, context).category == DiagnosisCategory.OOM_KILLED


def test_the_size_bound_keeps_the_newest_jobs_of_a_cronjob() -> None:
    objects = read_objects(CRONJOB)
    done = next(obj for obj in objects if obj["kind"] == "Job" and obj["status"].get("succeeded"))
    history = []
    for hour in range(2, 60):
        job = copy.deepcopy(done)
        job["metadata"]["name"] = f"nightly-report-{29140000 + hour}"
        job["metadata"]["creationTimestamp"] = f"2025-06-01T{hour % 24:02d}:00:00Z"
        history.append(job)
    full = context_from_objects([*objects, *history], {}, {}, "shop", "nightly-report")
    assert len(full.jobs) == 60
    bounded = context_from_objects(
        [*objects, *history],
        {},
        {},
        "shop",
        "nightly-report",
        max_bytes=len(full.model_dump_json()) // 3,
    )
    assert bounded.truncated and len(bounded.jobs) == 3
    assert diagnose_context(None, bounded).category == DiagnosisCategory.JOB_FAILED


# --- the view ---------------------------------------------------------------------------------


def test_a_daemonset_counts_by_its_own_status_names() -> None:
    view = WorkloadView(load_snapshot(DAEMONSET))
    status = view.top["status"]
    assert view.desired_replicas == status["desiredNumberScheduled"] == 3
    assert view.status_count("readyReplicas") == status["numberReady"] == 2


def test_a_statefulset_pod_belongs_to_the_revision_its_hash_label_names() -> None:
    view = WorkloadView(load_snapshot(STATEFULSET))
    current = view.current_revision
    assert current is not None
    assert current.name == view.top["status"]["updateRevision"]
    assert view.revision_of_pod(view.pod("ledger-db-2")) == current
    previous = view.revision_of_pod(view.pod("ledger-db-0"))
    assert previous is not None and previous.number < current.number
    assert previous.ready_replicas == 2


def test_a_cronjob_reads_its_jobtemplate_and_its_newest_run() -> None:
    view = WorkloadView(load_snapshot(CRONJOB))
    assert [c["name"] for c in view.template_containers()] == ["report"]
    assert view.containers_path == "spec.jobTemplate.spec.template.spec.containers"
    newest = name_of(view.current_job)
    assert view.pods and all(
        newest in {ref["name"] for ref in pod["metadata"]["ownerReferences"]} for pod in view.pods
    )


# --- job_failed -------------------------------------------------------------------------------


def _with_condition(path: Path, reason: str, message: str) -> ClusterContext:
    context = load_snapshot(path)
    for job in context.jobs:
        for condition in job.get("status", {}).get("conditions", []):
            if condition["type"] in {"Failed", "FailureTarget"}:
                condition["reason"], condition["message"] = reason, message
    context.events = [e for e in context.events if e["involvedObject"]["kind"] != "Job"]
    return context


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("  JOB HAS REACHED THE SPECIFIED BACKOFF LIMIT \n", "backoffLimit 2"),
        ("job was active longer than specified deadline", "activeDeadlineSeconds"),
    ],
)
def test_job_failure_messages_match_whatever_their_case_and_padding(
    message: str, words: str
) -> None:
    diagnosis = diagnose_context(None, _with_condition(CRONJOB, "", message))
    assert diagnosis.category == DiagnosisCategory.JOB_FAILED
    assert words in diagnosis.summary


def test_a_job_that_did_not_fail_is_not_job_failed() -> None:
    context = load_snapshot(CRONJOB)
    for job in context.jobs:
        job["status"]["conditions"] = []
    assert diagnose_context(None, context).category != DiagnosisCategory.JOB_FAILED


def test_oomkilled_job_pods_name_the_root_cause_not_the_job() -> None:
    diagnosis = diagnose_context(None, load_snapshot(CRONJOB_OOM))
    assert diagnosis.category == DiagnosisCategory.OOM_KILLED


# --- fixes by kind ----------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "words"), [(BARE_POD, "bare Pod"), (JOB, "after the fact")])
def test_a_bare_pod_or_a_job_gets_no_fix_and_is_told_why(path: Path, words: str) -> None:
    context = load_snapshot(path)
    diagnosis = diagnose_context(None, context)
    proposal = propose_fix(
        diagnosis.model_copy(update={"suggested_fix": FixKind.INCREASE_MEMORY}), context, LIMITS
    )
    assert proposal.kind == FixKind.NONE and words in proposal.rationale
    assert proposal.workload_kind == context.kind


def test_a_cronjob_is_patched_at_its_job_template() -> None:
    context = load_snapshot(CRONJOB_OOM)
    proposal = propose_fix(diagnose_context(None, context), context, LIMITS)
    assert proposal.kind == FixKind.INCREASE_MEMORY and proposal.workload_kind == "CronJob"
    template = proposal.manifest_patch["spec"]["jobTemplate"]["spec"]["template"]
    assert template["spec"]["containers"][0]["resources"]["limits"]["memory"] == "1Gi"
    assert proposal.action is not None and proposal.action.workload_kind == "CronJob"
    assert validate_proposal(proposal, context, LIMITS) == []


def test_a_cronjob_patch_at_the_deployment_path_is_refused() -> None:
    context = load_snapshot(CRONJOB_OOM)
    proposal = propose_fix(diagnose_context(None, context), context, LIMITS)
    wrong = {
        "spec": {"template": proposal.manifest_patch["spec"]["jobTemplate"]["spec"]["template"]}
    }
    refused = proposal.model_copy(update={"manifest_patch": wrong})
    assert any("spec.template is outside" in r for r in validate_proposal(refused, context, LIMITS))


def test_a_patch_naming_another_kind_is_refused() -> None:
    context = load_snapshot(STATEFULSET)
    patch = {"kind": "Deployment", "spec": {"replicas": 3}}
    proposal = FixProposal(
        kind=FixKind.SCALE_UP,
        risk=RiskLevel.LOW,
        rationale="x",
        manifest_patch=patch,
        workload_kind="StatefulSet",
        action=RemediationAction(
            kind=ActionKind.SCALE, namespace="shop", deployment="ledger-db", replicas=3
        ),
    )
    reasons = validate_proposal(proposal, context, LIMITS)
    assert any("patch.kind Deployment is not a StatefulSet" in r for r in reasons)
    assert any("kind Deployment is not the workload's kind" in r for r in reasons)


def test_a_daemonset_has_no_replicas_to_patch() -> None:
    context = load_snapshot(DAEMONSET)
    proposal = FixProposal(
        kind=FixKind.SCALE_UP,
        risk=RiskLevel.LOW,
        rationale="x",
        manifest_patch={"spec": {"replicas": 4}},
        workload_kind="DaemonSet",
    )
    assert any(
        "spec.replicas is outside" in r for r in validate_proposal(proposal, context, LIMITS)
    )


def test_a_statefulset_rolls_back_only_to_an_image_its_revisions_ran() -> None:
    context = load_snapshot(STATEFULSET)
    proposal = propose_fix(diagnose_context(None, context), context, LIMITS)
    assert proposal.kind == FixKind.ROLLBACK_IMAGE
    assert proposal.action is not None and proposal.action.kind == ActionKind.PATCH
    assert proposal.changes[0].after == "registry.acme.io/shop/ledger-db:16.3"
    assert validate_proposal(proposal, context, LIMITS) == []
    elsewhere = copy.deepcopy(proposal.manifest_patch)
    elsewhere["spec"]["template"]["spec"]["containers"][0]["image"] = "evil.io/ledger-db:1"
    refused = proposal.model_copy(update={"manifest_patch": elsewhere})
    assert any(
        "never ran in this StatefulSet" in r for r in validate_proposal(refused, context, LIMITS)
    )


def test_any_proposal_for_a_bare_pod_is_refused() -> None:
    context = load_snapshot(BARE_POD)
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "toolbox", "resources": {"limits": {"memory": "512Mi"}}}
                    ]
                }
            }
        }
    }
    proposal = FixProposal(
        kind=FixKind.INCREASE_MEMORY,
        risk=RiskLevel.LOW,
        rationale="x",
        manifest_patch=patch,
        workload_kind="Pod",
    )
    assert any("bare Pod" in r for r in validate_proposal(proposal, context, LIMITS))


def test_the_model_path_hints_a_daemonset_fix_like_the_rules_path() -> None:
    context = load_snapshot(DAEMONSET.parent.parent / "probe_failure" / "daemonset_probe")
    diagnosis = diagnose_context(None, context).model_copy(update={"hint": None})
    proposal = safe_fix(diagnosis, context, LIMITS)
    assert proposal.kind == FixKind.RELAX_PROBE and proposal.workload_kind == "DaemonSet"


def test_the_model_reads_another_kind_and_a_deployment_as_before() -> None:
    cronjob = json.loads(render_context(load_snapshot(CRONJOB)))
    assert cronjob["kind"] == "CronJob" and len(cronjob["jobs"]) == 2
    deployment = json.loads(render_context(load_snapshot(SCENARIOS / "crash_loop" / "new_rollout")))
    assert "kind" not in deployment and "jobs" not in deployment
