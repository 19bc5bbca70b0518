"""Job failed: a Job (or a CronJob's newest Job) gave up, and no other class explains why.

The job controller (pkg/controller/job/job_controller.go) marks a Job it gives up on with
the condition `Failed=True` (recent releases first write `FailureTarget` with the same
reason and message) and records the same reason and message as a Warning event:

- `BackoffLimitExceeded`, "Job has reached the specified backoff limit": more pods failed
  than `spec.backoffLimit` allows;
- `DeadlineExceeded`, "Job was active longer than specified deadline": the Job ran past
  `spec.activeDeadlineSeconds`, and its running pods were deleted;
- `PodFailurePolicy`, `MaxFailedIndexesExceeded`, `FailedIndexes` for the newer policies.

Pods OOMKilled or whose last words say a dependency is down are those classes (asked
first); what is left is the Job's own failure, which no template change made after the fact
can undo: a person reads the pods' exits and logs.
"""

from __future__ import annotations

from selfheal.activities.analysis.messages import normalize, same
from selfheal.activities.analysis.workload import ContainerStatus, WorkloadView
from selfheal.kube_objects import Obj, name_of
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory, Evidence, FixKind

BACKOFF_LIMIT = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE = ("DeadlineExceeded", "Job was active longer than specified deadline")
OTHER_REASONS = ("PodFailurePolicy", "MaxFailedIndexesExceeded", "FailedIndexes")
MAX_PODS_CITED = 2


def failed_condition(job: Obj) -> Obj:
    """The Job's `Failed` (or interim `FailureTarget`) condition with status True, if any."""
    for wanted in ("Failed", "FailureTarget"):
        for condition in (job.get("status") or {}).get("conditions") or []:
            if same(condition.get("type"), wanted) and same(condition.get("status"), "True"):
                return dict(condition)
    return {}


def _why(condition: Obj) -> str:
    """`backoff`, `deadline` or `policy` from the condition's reason, else its message."""
    reason, message = condition.get("reason"), normalize(condition.get("message")).casefold()
    if same(reason, BACKOFF_LIMIT[0]) or message == BACKOFF_LIMIT[1].casefold():
        return "backoff"
    if same(reason, DEADLINE[0]) or message == DEADLINE[1].casefold():
        return "deadline"
    return "policy" if same(reason, *OTHER_REASONS) else "other"


def _failed_containers(view: WorkloadView) -> list[tuple[ContainerStatus, str, Obj]]:
    """Containers of the Job's pods that ended with a non-zero exit, newest state first."""
    found = []
    for container in view.containers:
        for path, state in view.live_terminations(container):
            if state.get("exitCode") not in (None, 0):
                found.append((container, path, state))
                break
    return found


class JobFailed:
    """The newest Job carries Failed=True (backoff limit, deadline, failure policy)."""

    name = "job_failed"

    def diagnose(self, view: WorkloadView) -> Diagnosis | None:
        job = view.current_job
        condition = failed_condition(job)
        if not condition:
            return None
        job_name = name_of(job)
        spec, status = job.get("spec") or {}, job.get("status") or {}
        why = _why(condition)
        evidence = [
            Evidence(
                source=f"job/{job_name} status.conditions[{condition.get('type')}]",
                detail=f"status=True reason={condition.get('reason', '')} "
                f"message={condition.get('message', '')}",
            ),
            Evidence(
                source=f"job/{job_name} status",
                detail=f"failed={status.get('failed', 0)} succeeded={status.get('succeeded', 0)} "
                f"backoffLimit={spec.get('backoffLimit', 6)} "
                f"activeDeadlineSeconds={spec.get('activeDeadlineSeconds', 'unset')}",
            ),
        ]
        for event in view.events_for("Job", job_name)[-1:]:
            if same(event.get("type"), "Warning"):
                evidence.append(view.event_evidence("Job", job_name, event))
        failed = _failed_containers(view)
        names = view.container_order({container.name for container, _, _ in failed})
        for container, path, state in failed[:MAX_PODS_CITED]:
            evidence.append(container.state_evidence(path, state))
        if failed:
            first = failed[0][0]
            evidence += view.log_evidence(first.pod, first.name, limit=2)
        exits = sorted({str(state.get("exitCode")) for _, _, state in failed})
        said = normalize(condition.get("message")) or normalize(condition.get("reason"))
        summary = f"Job {job_name} failed: {said}"
        if view.kind == "CronJob":
            summary = f"CronJob {view.name}'s newest run failed: " + summary
        if why == "backoff":
            summary += (
                f" ({status.get('failed', 0)} failed pod(s), backoffLimit "
                f"{spec.get('backoffLimit', 6)}"
                + (f"; exit code {', '.join(exits)}" if exits else "")
                + ")"
            )
        elif why == "deadline":
            summary += f" (activeDeadlineSeconds {spec.get('activeDeadlineSeconds', '?')})"
        # The escalation a person reads starts from this: it names the Job and why it ended.
        what = f"Job {job_name} ended {condition.get('reason') or 'Failed'}"
        if failed:
            what += f" (exit code {', '.join(exits)})"
        recommendation = {
            "backoff": f"{what}: read the failed pods' exits and logs: the job's code, its "
            "input or its configuration makes it fail. Fix it in the CronJob's template or the "
            "Job's manifest, then run it again.",
            "deadline": f"{what}: find what made the run slow (its input grew, a dependency "
            "answers slowly, too little CPU); raise activeDeadlineSeconds in the template only "
            "if the work legitimately takes longer.",
        }.get(
            why,
            f"{what}: read the Job's failure condition and its failed pods, fix the cause in "
            "the template or manifest, then run it again.",
        )
        return Diagnosis(
            category=DiagnosisCategory.JOB_FAILED,
            summary=summary,
            evidence=evidence,
            confidence=0.85 if why in {"backoff", "deadline"} else 0.7,
            containers=names or [str(c.get("name")) for c in view.template_containers()],
            suggested_fix=FixKind.NONE,
            recommendation=recommendation,
        )
