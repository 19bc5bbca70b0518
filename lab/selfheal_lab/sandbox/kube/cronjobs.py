"""The simulated CronJob controller, and `kubectl create job --from=cronjob/x` in-process.

At each scheduled minute (wall clock, UTC) a CronJob gets a Job `<cronjob>-<minutes since
the epoch>` built from its jobTemplate and owned by it; `status.active`,
`lastScheduleTime` and `lastSuccessfulTime` follow the Jobs; finished Jobs beyond
`successfulJobsHistoryLimit` / `failedJobsHistoryLimit` are deleted (their pods go with them
through the garbage collector).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from selfheal_lab.sandbox.kube import defaults
from selfheal_lab.sandbox.kube.controllers import controlled_by, owner_ref
from selfheal_lab.sandbox.kube.cron import Schedule, ScheduleError, parse
from selfheal_lab.sandbox.kube.errors import ApiError
from selfheal_lab.sandbox.kube.events import EventRecorder
from selfheal_lab.sandbox.kube.jobs import finished_condition
from selfheal_lab.sandbox.kube.resources import CRONJOBS, JOBS
from selfheal_lab.sandbox.kube.store import Obj, Store

CONTROLLER = "cronjob-controller"
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
MANUAL_ANNOTATION = "cronjob.kubernetes.io/instantiate"
MISSED_LIMIT = 100


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_stamp(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)


def job_from_cronjob(cronjob: Obj, name: str, annotations: dict[str, str]) -> Obj:
    """Return the Job a CronJob's jobTemplate makes, named `name` and owned by the CronJob."""
    template = copy.deepcopy((cronjob.get("spec") or {}).get("jobTemplate") or {})
    template_meta = template.get("metadata") or {}
    job: Obj = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": cronjob["metadata"]["namespace"],
            "labels": dict(template_meta.get("labels") or {}),
            "annotations": {**(template_meta.get("annotations") or {}), **annotations},
            "ownerReferences": [owner_ref(cronjob)],
        },
        "spec": template.get("spec") or {},
    }
    return defaults.job(job)


def trigger(store: Store, namespace: str, cronjob: str, name: str) -> Obj:
    """Create a Job from a CronJob now, as `kubectl create job NAME --from=cronjob/CRONJOB`."""
    source = store.get(CRONJOBS, namespace, cronjob)
    job = job_from_cronjob(source, name, {MANUAL_ANNOTATION: "manual"})
    return store.create(JOBS, namespace, job)


def _reference(job: Obj) -> dict[str, Any]:
    meta = job["metadata"]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": meta["name"],
        "namespace": meta["namespace"],
        "resourceVersion": meta.get("resourceVersion"),
        "uid": meta["uid"],
    }


@dataclass
class CronJobController:
    """Reconciles every CronJob; `clock` gives the current time (tests pass their own)."""

    store: Store
    events: EventRecorder
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _schedules: dict[str, tuple[str, Schedule | None]] = field(default_factory=dict)
    _reported: set[tuple[str, str]] = field(default_factory=set)

    def sync(self) -> None:
        """Run one pass over every CronJob."""
        cronjobs = self.store.peek(CRONJOBS)
        if not cronjobs:
            return
        jobs = self.store.peek(JOBS)
        for cronjob in cronjobs:
            self._sync(cronjob, [j for j in jobs if controlled_by(j, cronjob)])

    def _schedule(self, cronjob: Obj) -> Schedule | None:
        text = str((cronjob.get("spec") or {}).get("schedule", ""))
        uid = cronjob["metadata"]["uid"]
        cached = self._schedules.get(uid)
        if cached is not None and cached[0] == text:
            return cached[1]
        try:
            schedule: Schedule | None = parse(text)
        except ScheduleError as exc:
            schedule = None
            self.events.record(
                cronjob,
                "Warning",
                "UnparseableSchedule",
                f'unparseable schedule: "{text}" : {exc}',
                CONTROLLER,
            )
        self._schedules[uid] = (text, schedule)
        return schedule

    def _sync(self, cronjob: Obj, jobs: list[Obj]) -> None:
        meta, spec = cronjob["metadata"], cronjob.get("spec") or {}
        status = copy.deepcopy(cronjob.get("status") or {})
        active = {ref["uid"]: ref for ref in status.get("active") or []}
        uids = {j["metadata"]["uid"] for j in jobs}
        for job in jobs:
            uid, name = job["metadata"]["uid"], job["metadata"]["name"]
            finished = finished_condition(job)
            if finished is None and uid not in active:
                self._once(
                    cronjob,
                    uid,
                    "Warning",
                    "UnexpectedJob",
                    f"Saw a job that the controller did not create or forgot: {name}",
                )
            elif finished is not None and uid in active:
                del active[uid]
                self.events.record(
                    cronjob,
                    "Normal",
                    "SawCompletedJob",
                    f"Saw completed job: {name}, condition: {finished}",
                    CONTROLLER,
                )
            if finished == "Complete":
                done = _parse_stamp((job.get("status") or {}).get("completionTime"))
                last = _parse_stamp(status.get("lastSuccessfulTime"))
                if done is not None and (last is None or done > last):
                    status["lastSuccessfulTime"] = _stamp(done)
        for uid in [u for u in active if u not in uids]:
            self.events.record(
                cronjob,
                "Normal",
                "MissingJob",
                f"Active job went missing: {active[uid]['name']}",
                CONTROLLER,
            )
            del active[uid]
        self._prune(cronjob, jobs)
        schedule = self._schedule(cronjob)
        if schedule is not None and not spec.get("suspend"):
            created = self._run_due(cronjob, schedule, status, active)
            if created is not None:
                active[created["metadata"]["uid"]] = _reference(created)
        status["active"] = list(active.values())
        status = {k: v for k, v in status.items() if v}

        def write(obj: Obj) -> None:
            obj["status"] = status

        if cronjob.get("status") != status:
            self.store.mutate(CRONJOBS, meta["namespace"], meta["name"], write)

    def _run_due(
        self, cronjob: Obj, schedule: Schedule, status: dict[str, Any], active: dict[str, Any]
    ) -> Obj | None:
        meta, spec = cronjob["metadata"], cronjob.get("spec") or {}
        now = self.clock()
        since = (
            _parse_stamp(status.get("lastScheduleTime"))
            or _parse_stamp(meta.get("creationTimestamp"))
            or now
        )
        due = schedule.next_after(since)
        if due is None or due > now:
            return None
        for _ in range(MISSED_LIMIT):  # the most recent missed time is the one that runs
            later = schedule.next_after(due)
            if later is None or later > now:
                break
            due = later
        status["lastScheduleTime"] = _stamp(due)
        policy = spec.get("concurrencyPolicy", "Allow")
        if active and policy == "Forbid":
            self.events.record(
                cronjob,
                "Normal",
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is "
                "Forbid",
                CONTROLLER,
            )
            return None
        if active and policy == "Replace":
            for ref in list(active.values()):
                self._delete_job(cronjob, ref["name"])
                del active[ref["uid"]]
        name = f"{meta['name']}-{int(due.timestamp()) // 60}"
        job = job_from_cronjob(cronjob, name, {SCHEDULED_ANNOTATION: _stamp(due)})
        try:
            created = self.store.create(JOBS, meta["namespace"], job)
        except ApiError as exc:
            self.events.record(
                cronjob, "Warning", "FailedCreate", f"Error creating job: {exc.message}", CONTROLLER
            )
            return None
        self.events.record(cronjob, "Normal", "SuccessfulCreate", f"Created job {name}", CONTROLLER)
        return created

    def _prune(self, cronjob: Obj, jobs: list[Obj]) -> None:
        spec = cronjob.get("spec") or {}
        for kind, key, default in (
            ("Complete", "successfulJobsHistoryLimit", 3),
            ("Failed", "failedJobsHistoryLimit", 1),
        ):
            limit = int(spec.get(key, default))
            finished = sorted(
                (j for j in jobs if finished_condition(j) == kind),
                key=lambda j: (
                    (j.get("status") or {}).get("startTime") or "",
                    j["metadata"]["name"],
                ),
            )
            for job in finished[: max(len(finished) - limit, 0)]:
                self._delete_job(cronjob, job["metadata"]["name"])

    def _delete_job(self, cronjob: Obj, name: str) -> None:
        with contextlib.suppress(ApiError):
            self.store.delete(JOBS, cronjob["metadata"]["namespace"], name)
            self.events.record(
                cronjob, "Normal", "SuccessfulDelete", f"Deleted job {name}", CONTROLLER
            )

    def _once(self, cronjob: Obj, uid: str, kind: str, reason: str, message: str) -> None:
        # The real controller repeats this on every resync; once is enough to be seen.
        if (uid, reason) not in self._reported:
            self._reported.add((uid, reason))
            self.events.record(cronjob, kind, reason, message, CONTROLLER)
