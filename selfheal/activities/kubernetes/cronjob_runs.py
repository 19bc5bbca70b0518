"""A CronJob's health after a fix: it has no rolling update, so a fix takes effect at its
next run, and only that run can say whether the fix worked.

The rollout is done once the CronJob carries the fixed job template and is not suspended
(`set_rollouts.cronjob_rollout_status`); verification waits, within its window, for a Job
whose pod template is the fixed one to finish. A run that has not happened yet is said
plainly: nothing is verified, and the incident goes to a person rather than being called
healthy.
"""

from __future__ import annotations

import time

from selfheal.activities.kubernetes.client import ClusterConnection
from selfheal.activities.kubernetes.members import read_members
from selfheal.activities.kubernetes.rollout import contains
from selfheal.activities.pause import pause
from selfheal.contracts.kubernetes import HealthCheckRequest, HealthReport
from selfheal.kube_objects import Obj, name_of


def job_template(cron: Obj) -> Obj:
    """The pod template the CronJob's next Job will run."""
    spec = (cron.get("spec") or {}).get("jobTemplate", {}).get("spec") or {}
    return spec.get("template") or {}


def runs_with_fix(cron: Obj, jobs: list[Obj]) -> list[Obj]:
    """The CronJob's Jobs made from its current job template, oldest first."""
    wanted = job_template(cron)
    made = [job for job in jobs if contains((job.get("spec") or {}).get("template"), wanted)]
    return sorted(made, key=lambda job: str((job.get("metadata") or {}).get("creationTimestamp")))


def finished(job: Obj) -> tuple[bool, str] | None:
    """(succeeded, how) once the Job has finished; None while it runs."""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("status") != "True":
            continue
        if condition.get("type") == "Complete":
            return True, f"job {name_of(job)} completed"
        if condition.get("type") == "Failed":
            why = condition.get("message") or condition.get("reason") or "failed"
            return False, f"job {name_of(job)} failed: {why}"
    return None


def verify_next_run(
    conn: ClusterConnection, request: HealthCheckRequest, poll: float
) -> HealthReport:
    """Healthy when a run with the fixed template completes within the window; unhealthy
    when one fails, or when none has finished by the end of the window (said so)."""
    deadline = time.monotonic() + request.window.total_seconds()
    where = f"cronjob {request.namespace}/{request.deployment}"
    while True:
        members = read_members(conn, request.namespace, "CronJob", request.deployment)
        assert members.top is not None
        verdicts = [
            found for job in runs_with_fix(members.top, members.jobs) if (found := finished(job))
        ]
        if verdicts:
            succeeded, how = verdicts[-1]
            finding = f"healthy: {how} with the fix" if succeeded else f"unhealthy: {how}"
            return HealthReport(
                healthy=succeeded,
                message=f"{where} {finding}",
                ready_replicas=0,
                desired_replicas=0,
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            spec, status = members.top.get("spec") or {}, members.top.get("status") or {}
            return HealthReport(
                healthy=False,
                message=f"{where} not verified: no run with the fix has finished yet "
                f"(schedule {spec.get('schedule', '?')!r}, last scheduled "
                f"{status.get('lastScheduleTime') or 'never'}); its next run will tell",
                ready_replicas=0,
                desired_replicas=0,
            )
        pause(min(poll, remaining), f"waiting for a run of {where} with the fix")
