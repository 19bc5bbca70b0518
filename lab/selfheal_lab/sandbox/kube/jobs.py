"""The simulated Job controller.

Runs `parallelism` pods at a time until `completions` have succeeded. A failed pod
(`restartPolicy: Never`) counts against `backoffLimit` and is replaced after the
controller's exponential back-off (10 s doubling, simulated time); with `OnFailure` the
kubelet restarts containers in place and their restarts count instead. A Job past its
`backoffLimit` or `activeDeadlineSeconds` fails with the upstream reasons and messages, and
its running pods are deleted.
"""

from __future__ import annotations

import contextlib
import copy
import time
from dataclasses import dataclass, field
from typing import Any

from selfheal_lab.sandbox.kube import defaults
from selfheal_lab.sandbox.kube.controllers import controlled_by, is_active, is_ready, owner_ref
from selfheal_lab.sandbox.kube.errors import ApiError
from selfheal_lab.sandbox.kube.events import EventRecorder
from selfheal_lab.sandbox.kube.kubelet import Timing
from selfheal_lab.sandbox.kube.pod_security import admit_pod
from selfheal_lab.sandbox.kube.resources import JOBS, PODS
from selfheal_lab.sandbox.kube.store import Obj, Store, now_rfc3339, random_suffix

CONTROLLER = "job-controller"
BACKOFF_LIMIT = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE = ("DeadlineExceeded", "Job was active longer than specified deadline")
COMPLETED = ("CompletionsReached", "Reached expected number of succeeded pods")
POD_BACKOFF_SECONDS = 10.0
POD_BACKOFF_CAP_SECONDS = 360.0


def finished_condition(job: Obj) -> str | None:
    """Return "Complete" or "Failed" when the Job has finished, else None."""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return str(condition["type"])
    return None


def _condition(kind: str, reason: str, message: str) -> dict[str, Any]:
    stamp = now_rfc3339()
    return {
        "type": kind,
        "status": "True",
        "lastProbeTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def _phase(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("phase", ""))


def _restarts(pods: list[Obj]) -> int:
    return sum(
        int(c.get("restartCount", 0))
        for pod in pods
        for key in ("containerStatuses", "initContainerStatuses")
        for c in (pod.get("status") or {}).get(key) or []
    )


@dataclass
class JobController:
    """Reconciles every Job in the store, one step per sync."""

    store: Store
    events: EventRecorder
    timing: Timing = field(default_factory=Timing)
    _started: dict[str, float] = field(default_factory=dict)  # uid -> wall clock start
    # (uid, failures so far) -> when the back-off before the next pod ends
    _next_create: dict[tuple[str, int], float] = field(default_factory=dict)

    def sync(self) -> None:
        """Run one pass over every unfinished Job."""
        jobs = [j for j in self.store.peek(JOBS) if finished_condition(j) is None]
        if not jobs:
            return
        pods = self.store.peek(PODS)
        for job in jobs:
            self._sync_job(job, [p for p in pods if controlled_by(p, job)])

    def _sync_job(self, job: Obj, pods: list[Obj]) -> None:
        meta, spec = job["metadata"], job.get("spec") or {}
        uid = meta["uid"]
        status = dict(job.get("status") or {})
        if spec.get("suspend"):
            return
        started = self._started.setdefault(uid, time.monotonic())
        status.setdefault("startTime", now_rfc3339())
        active = [p for p in pods if is_active(p)]
        succeeded = sum(1 for p in pods if _phase(p) == "Succeeded")
        failed = sum(1 for p in pods if _phase(p) == "Failed")
        completions = int(spec.get("completions", 1))
        limit = int(spec.get("backoffLimit", 6))
        policy = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy", "Never")
        restarts = _restarts(active) if policy == "OnFailure" else 0
        deadline = spec.get("activeDeadlineSeconds")
        failure: tuple[str, str] | None = None
        if failed > limit or (
            policy == "OnFailure" and (restarts > 0 if limit == 0 else restarts >= limit)
        ):
            failure = BACKOFF_LIMIT
        elif deadline is not None and time.monotonic() - started >= self.timing.wall(
            float(deadline)
        ):
            failure = DEADLINE
        conditions = list(status.get("conditions") or [])
        if failure is not None:
            for pod in active:
                self._delete_pod(job, pod)
            active = []
            conditions += [_condition("FailureTarget", *failure), _condition("Failed", *failure)]
            self.events.record(job, "Warning", failure[0], failure[1], CONTROLLER)
            self._forget(uid)
        elif succeeded >= completions:
            for pod in active:
                self._delete_pod(job, pod)
            active = []
            conditions += [
                _condition("SuccessCriteriaMet", *COMPLETED),
                _condition("Complete", *COMPLETED),
            ]
            status["completionTime"] = now_rfc3339()
            self.events.record(job, "Normal", "Completed", "Job completed", CONTROLLER)
            self._forget(uid)
        else:
            active += self._create_pods(job, active, succeeded, failed)
        status.update(
            {
                "active": len(active),
                "ready": sum(1 for p in active if is_ready(p)),
                "succeeded": succeeded,
                "failed": failed,
                "terminating": 0,
                "uncountedTerminatedPods": {},
                "conditions": conditions,
            }
        )
        status = {
            k: v
            for k, v in status.items()
            if v or k in ("ready", "terminating", "uncountedTerminatedPods")
        }

        def write(obj: Obj) -> None:
            obj["status"] = status

        if job.get("status") != status:
            self.store.mutate(JOBS, meta["namespace"], meta["name"], write)

    def _create_pods(self, job: Obj, active: list[Obj], succeeded: int, failed: int) -> list[Obj]:
        spec, uid = job.get("spec") or {}, job["metadata"]["uid"]
        want = min(int(spec.get("parallelism", 1)), int(spec.get("completions", 1)) - succeeded)
        missing = want - len(active)
        if missing <= 0:
            return []
        now = time.monotonic()
        if failed:
            # The controller waits before replacing failed pods: 10 s, 20 s, ... up to 6 min.
            wait = min(POD_BACKOFF_SECONDS * 2 ** (failed - 1), POD_BACKOFF_CAP_SECONDS)
            due = self._next_create.setdefault((uid, failed), now + self.timing.wall(wait))
            if now < due:
                return []
        return [pod for pod in (self._create_pod(job) for _ in range(missing)) if pod]

    def _create_pod(self, job: Obj) -> Obj | None:
        meta = job["metadata"]
        template = copy.deepcopy((job.get("spec") or {}).get("template") or {})
        pod_spec = template.get("spec") or {}
        pod_spec.setdefault("serviceAccountName", "default")
        pod_spec.setdefault("serviceAccount", "default")
        pod: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"{meta['name']}-{random_suffix()}",
                "namespace": meta["namespace"],
                "labels": dict((template.get("metadata") or {}).get("labels") or {}),
                "ownerReferences": [owner_ref(job)],
            },
            "spec": pod_spec,
            "status": {"phase": "Pending", "qosClass": "BestEffort"},
        }
        annotations = (template.get("metadata") or {}).get("annotations")
        if annotations:
            pod["metadata"]["annotations"] = annotations
        defaults.pod(pod)
        try:
            admit_pod(self.store, pod)
            created = self.store.create(PODS, meta["namespace"], pod)
        except ApiError as exc:
            self.events.record(
                job, "Warning", "FailedCreate", f"Error creating: {exc.message}", CONTROLLER
            )
            return None
        self.events.record(
            job,
            "Normal",
            "SuccessfulCreate",
            f"Created pod: {created['metadata']['name']}",
            CONTROLLER,
        )
        return created

    def _delete_pod(self, job: Obj, pod: Obj) -> None:
        with contextlib.suppress(ApiError):  # already gone
            self.store.delete(PODS, pod["metadata"]["namespace"], pod["metadata"]["name"])
        self.events.record(
            job, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}", CONTROLLER
        )

    def _forget(self, uid: str) -> None:
        self._started.pop(uid, None)
        for key in [k for k in self._next_create if k[0] == uid]:
            del self._next_create[key]
