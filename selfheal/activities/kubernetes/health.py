"""Whether a workload (Deployment, StatefulSet, DaemonSet) stays healthy over a window:
rollout done, replicas ready, no restarts; a CronJob, whether its next run succeeds."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from selfheal.activities.kubernetes.client import ClusterConnection
from selfheal.activities.kubernetes.cronjob_runs import verify_next_run
from selfheal.activities.kubernetes.members import read_members
from selfheal.activities.kubernetes.rollout import rollout_status, workload_rollout_status
from selfheal.activities.kubernetes.rollout_reading import RolloutStatus
from selfheal.activities.kubernetes.workload import read_workload
from selfheal.activities.pause import pause
from selfheal.contracts.kubernetes import HealthCheckRequest, HealthReport
from selfheal.kube_objects import Obj, name_of, uid_of

SAMPLES_PER_WINDOW = 6


@dataclass
class RestartLedger:
    """Restart counts per pod since the window opened; pods born later start from zero."""

    baseline: dict[str, int] = field(default_factory=dict)
    latest: dict[str, int] = field(default_factory=dict)
    culprits: dict[str, str] = field(default_factory=dict)

    def record(self, pods: list[Obj], opening: bool) -> None:
        """Record one sample of the pods' container restart counts."""
        for pod in pods:
            uid = uid_of(pod)
            statuses = (pod.get("status") or {}).get("containerStatuses") or []
            count = sum(int(s.get("restartCount") or 0) for s in statuses)
            self.baseline.setdefault(uid, count if opening else 0)
            if count > self.latest.get(uid, self.baseline[uid]):
                self.culprits[uid] = describe_restart(pod)
            self.latest[uid] = count

    @property
    def restarts(self) -> int:
        return sum(self.latest[uid] - self.baseline[uid] for uid in self.latest)


def describe_restart(pod: Obj) -> str:
    """Return `pod P container C: Reason (exit code N)` for the pod's most restarted container."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    if not statuses:
        return f"pod {name_of(pod)}"
    worst = max(statuses, key=lambda s: int(s.get("restartCount") or 0))
    last = (worst.get("lastState") or {}).get("terminated") or {}
    reason = last.get("reason") or "restarted"
    exit_code = f" (exit code {last['exitCode']})" if last.get("exitCode") is not None else ""
    return f"pod {name_of(pod)} container {worst.get('name')}: {reason}{exit_code}"


def verify_window(
    conn: ClusterConnection, request: HealthCheckRequest, poll: float
) -> HealthReport:
    """Return whether the Deployment stayed healthy over the request's window.

    Samples at the start, periodically and at the end; stops at the first sign of trouble.
    A CronJob is judged by its first run with the fix instead (cronjob_runs.py).
    """
    if request.kind == "CronJob":
        return verify_next_run(conn, request, poll)
    window = request.window.total_seconds()
    interval = max(min(poll, window / SAMPLES_PER_WINDOW), 0.05)
    started = time.monotonic()
    ledger = RestartLedger()
    opening = True
    while True:
        status, pods = _sample(conn, request)
        ledger.record(pods, opening)
        opening = False
        elapsed = time.monotonic() - started
        problem = trouble(status, ledger)
        if problem:
            return report(
                request,
                status.ready,
                status.desired,
                ledger,
                f"unhealthy after {elapsed:.0f}s: {problem}",
            )
        remaining = window - elapsed
        if remaining <= 0:
            return report(
                request,
                status.ready,
                status.desired,
                ledger,
                f"healthy for {window:.0f}s: {status.ready}/{status.desired} replicas ready, "
                "no container restarts",
                healthy=True,
            )
        pause(
            min(interval, remaining),
            f"{status.ready}/{status.desired} ready, {ledger.restarts} restarts",
        )


def _sample(
    conn: ClusterConnection, request: HealthCheckRequest
) -> tuple[RolloutStatus, list[Obj]]:
    """The rollout's reading and the pods to watch: a Deployment's current ReplicaSet's, or
    every pod of a StatefulSet or DaemonSet (a restart anywhere in it counts)."""
    if request.kind == "Deployment":
        workload = read_workload(conn, request.namespace, request.deployment)
        return rollout_status(workload.deployment), workload.current_pods()
    members = read_members(conn, request.namespace, request.kind, request.deployment)
    assert members.top is not None
    return workload_rollout_status(members.top, request.kind), members.pods


def trouble(status: RolloutStatus, ledger: RestartLedger) -> str | None:
    """Return what is wrong with the sample, in words, or None when it looks healthy."""
    if status.desired == 0:
        return "it is scaled to 0 replicas, so nothing serves"
    if ledger.restarts:
        culprits = "; ".join(sorted(set(ledger.culprits.values())))
        return f"{ledger.restarts} container restarts during the window ({culprits})"
    if not status.complete:
        return f"the rollout is not complete ({status.message})"
    if status.ready < status.desired:
        return f"only {status.ready}/{status.desired} replicas are ready"
    return None


def report(
    request: HealthCheckRequest,
    ready: int,
    desired: int,
    ledger: RestartLedger,
    finding: str,
    healthy: bool = False,
) -> HealthReport:
    return HealthReport(
        healthy=healthy,
        message=f"{request.kind.lower()} {request.namespace}/{request.deployment} {finding}",
        ready_replicas=ready,
        desired_replicas=desired,
        restarts_during_window=ledger.restarts,
    )
