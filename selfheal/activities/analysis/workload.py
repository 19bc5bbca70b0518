"""A read-only view of one workload's ClusterContext, in the terms the rules reason with.

Every kind reads alike: the pods whatever owns them, the containers of the owning template
(a CronJob's `spec.jobTemplate.spec.template`), rollout revisions from ReplicaSets,
ControllerRevisions or Jobs, and status counts by the names the kind gives them.

Container statuses, events by object, rollout revisions and log lines, each carrying the
`source` a piece of Evidence cites. Times are relative to the snapshot's own latest
timestamp, never the clock, so a snapshot diagnoses the same today and next year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from selfheal.activities.analysis.messages import normalize, same
from selfheal.contracts.kubernetes import ClusterContext
from selfheal.kube_objects import (
    REVISION_ANNOTATION,
    Obj,
    name_of,
    owner_names,
    parse_time,
    pod_template,
    template_path,
)
from selfheal.model.alerts import Alert
from selfheal.model.diagnosis import Evidence

ACTIVE_WINDOW = timedelta(hours=1)
"""A container's last termination counts as a live problem if it ended this recently."""

DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"

_FIELD_PATH_CONTAINER = re.compile(r"spec\.(?:initContainers|containers)\{([^}]+)\}")
_ERROR_LINE = re.compile(
    r"error|exception|fatal|panic|traceback|refused|denied|cannot|can't|could not|failed|"
    r"no such|not found|invalid|missing|killed|out of memory|segmentation",
    re.IGNORECASE,
)


def _revision_hash_matches(revision: Obj, pod: Obj) -> bool:
    """Whether a pod's `controller-revision-hash` label names a ControllerRevision.

    A StatefulSet's pods carry the revision's full name, a DaemonSet's only its hash suffix.
    """
    labels = (pod.get("metadata") or {}).get("labels") or {}
    value = labels.get("controller-revision-hash")
    name = name_of(revision)
    return bool(value) and (value == name or name.endswith(f"-{value}"))


@dataclass(frozen=True)
class ContainerStatus:
    """One container of one pod: its status and spec, and where they were read."""

    pod: str
    name: str
    status: Obj
    spec: Obj
    init: bool = False

    @property
    def source(self) -> str:
        kind = "initContainerStatuses" if self.init else "containerStatuses"
        return f"pod/{self.pod} status.{kind}[{self.name}]"

    @property
    def ready(self) -> bool:
        return bool(self.status.get("ready"))

    @property
    def restart_count(self) -> int:
        return int(self.status.get("restartCount") or 0)

    @property
    def waiting(self) -> Obj:
        return (self.status.get("state") or {}).get("waiting") or {}

    @property
    def running(self) -> Obj:
        return (self.status.get("state") or {}).get("running") or {}

    @property
    def terminated(self) -> Obj:
        return (self.status.get("state") or {}).get("terminated") or {}

    @property
    def last_terminated(self) -> Obj:
        return (self.status.get("lastState") or {}).get("terminated") or {}

    @property
    def image(self) -> str:
        return str(self.spec.get("image") or self.status.get("image") or "")

    def state_evidence(self, path: str, state: Obj) -> Evidence:
        """Cite one state of this container (`state.waiting`, `lastState.terminated`, ...)."""
        keys = ("reason", "exitCode", "signal", "message", "startedAt", "finishedAt")
        detail = " ".join(f"{key}={state[key]}" for key in keys if state.get(key) not in (None, ""))
        return Evidence(
            source=f"{self.source}.{path}",
            detail=f"{detail} restartCount={self.restart_count} ready={str(self.ready).lower()}",
        )


_PER_REVISION_LABELS = (
    "pod-template-hash",
    "controller-revision-hash",
    "controller-uid",
    "job-name",
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-name",
)
"""Labels a controller adds to each revision's template, which say nothing of its content."""

_DAEMONSET_STATUS = {
    "readyReplicas": "numberReady",
    "availableReplicas": "numberAvailable",
    "updatedReplicas": "updatedNumberScheduled",
    "replicas": "currentNumberScheduled",
}
"""A DaemonSet's names for the counts a Deployment's status keeps."""


@dataclass(frozen=True)
class Revision:
    """One rollout revision and the images it runs: a Deployment's ReplicaSet, a
    StatefulSet's or DaemonSet's ControllerRevision, or one Job of a CronJob (or the Job)."""

    number: int
    replicaset: Obj
    """The object that carries the revision (a ReplicaSet, ControllerRevision or Job)."""
    kind: str = "ReplicaSet"
    ready: int | None = None
    """Ready pods of the revision, when its object does not count them itself."""

    @property
    def name(self) -> str:
        return name_of(self.replicaset)

    @property
    def template(self) -> Obj:
        if self.kind == "ControllerRevision":
            data = self.replicaset.get("data") or {}
            template = dict((data.get("spec") or {}).get("template") or {})
            template.pop("$patch", None)
            return template
        return pod_template(self.replicaset)

    @property
    def containers(self) -> list[Obj]:
        return list((self.template.get("spec") or {}).get("containers") or [])

    @property
    def images(self) -> dict[str, str]:
        return {c.get("name", ""): c.get("image", "") for c in self.containers}

    @property
    def ready_replicas(self) -> int:
        if self.ready is not None:
            return self.ready
        return int((self.replicaset.get("status") or {}).get("readyReplicas") or 0)

    @property
    def created(self) -> datetime | None:
        return parse_time((self.replicaset.get("metadata") or {}).get("creationTimestamp"))

    @property
    def desired_replicas(self) -> int | None:
        annotations = (self.replicaset.get("metadata") or {}).get("annotations") or {}
        value = annotations.get(DESIRED_REPLICAS_ANNOTATION)
        return int(value) if value is not None and str(value).isdigit() else None

    def comparable_template(self) -> Obj:
        """The pod template without the labels the controller adds to each revision."""
        template = dict(self.template)
        metadata = dict(template.get("metadata") or {})
        labels = dict(metadata.get("labels") or {})
        for label in _PER_REVISION_LABELS:
            labels.pop(label, None)
        metadata["labels"] = labels
        template["metadata"] = metadata
        return template


@dataclass
class WorkloadView:
    """The facts of one workload (any kind) that every rule reads."""

    context: ClusterContext
    alert: Alert | None = None
    _events_by_object: dict[tuple[str, str], list[Obj]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for event in self.context.events:
            ref = event.get("involvedObject") or event.get("regarding") or {}
            key = (str(ref.get("kind", "")), str(ref.get("name", "")))
            self._events_by_object.setdefault(key, []).append(event)

    # --- the workload -------------------------------------------------------------------

    @property
    def kind(self) -> str:
        """The top-level workload's kind (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod)."""
        return self.context.kind

    @property
    def top(self) -> Obj:
        """The top-level object (empty when it was not found)."""
        return self.context.workload_object() or {}

    @property
    def deployment(self) -> Obj:
        """The top-level object; named for the kind every rule was first written for."""
        return self.top

    @property
    def name(self) -> str:
        return self.context.workload

    @property
    def ref(self) -> str:
        """`kind/name` as evidence cites the workload (`deployment/checkout`)."""
        return f"{self.kind.lower()}/{self.name}"

    @property
    def template_path(self) -> str:
        """Where the workload keeps its pod template (`spec` itself for a bare Pod)."""
        return "spec" if self.kind == "Pod" else template_path(self.kind)

    @property
    def containers_path(self) -> str:
        """The field path of the template's containers, as evidence cites it."""
        return "spec.containers" if self.kind == "Pod" else f"{self.template_path}.spec.containers"

    @property
    def desired_replicas(self) -> int:
        """How many pods the workload wants: its replicas, a DaemonSet's scheduled count,
        a Job's parallelism, one for a bare Pod."""
        spec = self.top.get("spec") or {}
        if self.kind in {"Deployment", "StatefulSet"}:
            return int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
        if self.kind == "DaemonSet":
            return int((self.top.get("status") or {}).get("desiredNumberScheduled") or 0)
        if self.kind in {"Job", "CronJob"}:
            job_spec = (
                (spec.get("jobTemplate") or {}).get("spec") or {}
                if self.kind == "CronJob"
                else spec
            )
            value = job_spec.get("parallelism")
            return int(value) if value is not None else 1
        return 1

    def status_count(self, field_name: str) -> int:
        """Return a count from the workload's status (availableReplicas, readyReplicas...),
        by the name the kind gives it; counted from the pods for kinds whose status has none."""
        status = self.top.get("status") or {}
        if self.kind in {"Deployment", "StatefulSet"}:
            return int(status.get(field_name) or 0)
        if self.kind == "DaemonSet":
            return int(status.get(_DAEMONSET_STATUS.get(field_name, field_name)) or 0)
        if field_name == "replicas":
            return len(self.pods)
        return sum(
            1 for pod in self.pods if self.pod_condition(pod, "Ready").get("status") == "True"
        )

    def workload_condition(self, condition_type: str) -> Obj:
        """Return the top-level object's status condition of `condition_type` (empty if none)."""
        for condition in (self.top.get("status") or {}).get("conditions") or []:
            if same(condition.get("type"), condition_type):
                return dict(condition)
        return {}

    def deployment_condition(self, condition_type: str) -> Obj:
        """The top-level object's condition (see `workload_condition`)."""
        return self.workload_condition(condition_type)

    def template_container(self, name: str) -> Obj:
        """Return the pod template's container spec `name` (empty if absent)."""
        for container in self.template_containers():
            if container.get("name") == name:
                return container
        return {}

    def resources_evidence(self, container: str) -> Evidence:
        """Cite the requests and limits the pod template gives `container`."""
        resources = self.template_container(container).get("resources") or {}
        parts = [
            f"{group}.{key}={value}"
            for group in ("requests", "limits")
            for key, value in sorted((resources.get(group) or {}).items())
        ]
        return Evidence(
            source=f"{self.ref} {self.containers_path}[{container}].resources",
            detail=", ".join(parts) or "no requests or limits",
        )

    def template_spec(self) -> Obj:
        """The pod spec the workload creates its pods from (a bare Pod's own spec)."""
        if self.kind == "Pod":
            return dict(self.top.get("spec") or {})
        return dict(pod_template(self.top).get("spec") or {})

    def template_containers(self) -> list[Obj]:
        return list(self.template_spec().get("containers") or [])

    # --- rollout history ------------------------------------------------------------------

    @cached_property
    def revisions(self) -> list[Revision]:
        """Return the workload's revisions, oldest first: a Deployment's ReplicaSets, a
        StatefulSet's or DaemonSet's ControllerRevisions, a CronJob's Jobs (or the Job)."""
        if self.kind in {"StatefulSet", "DaemonSet"}:
            return self._controller_revisions()
        if self.kind in {"Job", "CronJob"}:
            jobs = sorted(
                self.context.jobs,
                key=lambda job: (
                    str((job.get("metadata") or {}).get("creationTimestamp")),
                    name_of(job),
                ),
            )
            return [Revision(number, job, "Job") for number, job in enumerate(jobs, start=1)]
        found = []
        for rs in self.context.replicasets:
            annotations = (rs.get("metadata") or {}).get("annotations") or {}
            value = str(annotations.get(REVISION_ANNOTATION, ""))
            if value.isdigit():
                found.append(Revision(int(value), rs))
        return sorted(found, key=lambda revision: revision.number)

    def _controller_revisions(self) -> list[Revision]:
        found = []
        for item in self.context.controller_revisions:
            value = item.get("revision")
            if not isinstance(value, int):
                continue
            ready = sum(
                1
                for pod in self.context.pods
                if _revision_hash_matches(item, pod)
                and self.pod_condition(pod, "Ready").get("status") == "True"
            )
            found.append(Revision(value, item, "ControllerRevision", ready))
        found.sort(key=lambda revision: revision.number)
        # A StatefulSet names the revision it updates to; a newer-numbered leftover is not it.
        update = (self.top.get("status") or {}).get("updateRevision")
        target = next((revision for revision in found if revision.name == update), None)
        if target is not None and found[-1] is not target:
            found.remove(target)
            found.append(target)
        return found

    @property
    def current_revision(self) -> Revision | None:
        return self.revisions[-1] if self.revisions else None

    @property
    def previous_revision(self) -> Revision | None:
        """Return the newest revision before the current one whose template differs from it."""
        current = self.current_revision
        if current is None:
            return None
        for revision in reversed(self.revisions[:-1]):
            if revision.comparable_template() != current.comparable_template():
                return revision
        return None

    def revision_of_pod(self, pod: Obj) -> Revision | None:
        """The revision a pod was created from: its ReplicaSet, its `controller-revision-hash`
        label, or its Job."""
        if self.kind in {"StatefulSet", "DaemonSet"}:
            return next(
                (rev for rev in self.revisions if _revision_hash_matches(rev.replicaset, pod)),
                None,
            )
        owner_kind = "Job" if self.kind in {"Job", "CronJob"} else "ReplicaSet"
        owners = {
            ref.get("name")
            for ref in (pod.get("metadata") or {}).get("ownerReferences") or []
            if ref.get("kind") == owner_kind
        }
        return next((rev for rev in self.revisions if rev.name in owners), None)

    def revision_evidence(self, revision: Revision) -> Evidence:
        images = ", ".join(f"{name}={image}" for name, image in revision.images.items())
        created = (revision.replicaset.get("metadata") or {}).get("creationTimestamp", "?")
        where = {
            "ReplicaSet": f"metadata.annotations[{REVISION_ANNOTATION}]",
            "ControllerRevision": "revision",
            "Job": "metadata.creationTimestamp",
        }[revision.kind]
        return Evidence(
            source=f"{revision.kind.lower()}/{revision.name} {where}",
            detail=f"revision {revision.number} created {created}; images {images}; "
            f"{revision.ready_replicas} ready",
        )

    @property
    def current_job(self) -> Obj:
        """A Job's own object, or a CronJob's newest Job (empty for other kinds)."""
        if self.kind not in {"Job", "CronJob"} or not self.revisions:
            return {}
        return self.revisions[-1].replicaset

    # --- pods and containers ----------------------------------------------------------------

    @property
    def pods(self) -> list[Obj]:
        """The workload's pods; a CronJob's are those of its newest Job, the run that is live."""
        if self.kind != "CronJob":
            return self.context.pods
        newest = name_of(self.current_job)
        return [pod for pod in self.context.pods if newest in owner_names(pod, "Job")]

    def pod(self, name: str) -> Obj:
        return next((pod for pod in self.pods if name_of(pod) == name), {})

    def pod_finished(self, name: str) -> bool:
        """True when the pod's phase is Failed or Succeeded: its containers run no more."""
        return same((self.pod(name).get("status") or {}).get("phase"), "Failed", "Succeeded")

    @staticmethod
    def pod_condition(pod: Obj, condition_type: str) -> Obj:
        """Return the pod's condition of `condition_type` (empty if it has none)."""
        for condition in (pod.get("status") or {}).get("conditions") or []:
            if same(condition.get("type"), condition_type):
                return dict(condition)
        return {}

    @cached_property
    def containers(self) -> list[ContainerStatus]:
        """Return every container status of every pod, init containers first."""
        found = []
        for pod in self.pods:
            spec = pod.get("spec") or {}
            status = pod.get("status") or {}
            for init, spec_key, status_key in (
                (True, "initContainers", "initContainerStatuses"),
                (False, "containers", "containerStatuses"),
            ):
                specs = {c.get("name"): c for c in spec.get(spec_key) or []}
                for container_status in status.get(status_key) or []:
                    name = str(container_status.get("name", ""))
                    found.append(
                        ContainerStatus(
                            name_of(pod), name, container_status, specs.get(name, {}), init
                        )
                    )
        return found

    def container_order(self, names: set[str]) -> list[str]:
        """Return `names` in the order the pod template lists its containers."""
        order = [str(c.get("name")) for c in self.template_containers()]
        return sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))

    def live_terminations(self, container: ContainerStatus) -> list[tuple[str, Obj]]:
        """Return (field path, state) of the container's terminations that still matter.

        The current termination always does; the last one does while the container is not
        ready, is waiting to restart, or ended within ACTIVE_WINDOW of the snapshot.
        """
        found = []
        if container.terminated:
            found.append(("state.terminated", container.terminated))
        last = container.last_terminated
        if last and (
            not container.ready or container.waiting or self.is_recent(last.get("finishedAt"))
        ):
            found.append(("lastState.terminated", last))
        return found

    # --- time ---------------------------------------------------------------------------------

    @cached_property
    def reference_time(self) -> datetime | None:
        """Return the latest timestamp in the context: the moment the snapshot describes."""
        values: list[Any] = []
        for event in self.context.events:
            values += [
                event.get("lastTimestamp"),
                event.get("eventTime"),
                (event.get("series") or {}).get("lastObservedTime"),
                event.get("firstTimestamp"),
            ]
        objects = [
            self.top,
            *self.context.replicasets,
            *self.context.jobs,
            *self.context.controller_revisions,
            *self.pods,
        ]
        for obj in objects:
            values.append((obj.get("metadata") or {}).get("creationTimestamp"))
            for condition in (obj.get("status") or {}).get("conditions") or []:
                values += [condition.get("lastTransitionTime"), condition.get("lastUpdateTime")]
        for container in self.containers:
            for state in (
                container.status.get("state") or {},
                container.status.get("lastState") or {},
            ):
                for detail in state.values():
                    if isinstance(detail, dict):
                        values += [detail.get("startedAt"), detail.get("finishedAt")]
        times = [t for t in (parse_time(v) for v in values) if t is not None]
        return max(times) if times else None

    def is_recent(self, value: Any, window: timedelta = ACTIVE_WINDOW) -> bool:
        """True when `value` lies within `window` of the snapshot's reference time."""
        moment, reference = parse_time(value), self.reference_time
        if moment is None or reference is None:
            return True
        return reference - moment <= window

    # --- events ---------------------------------------------------------------------------------

    def events_for(self, kind: str, name: str) -> list[Obj]:
        return self._events_by_object.get((kind, name), [])

    def pod_events(self, reasons: set[str] | None = None) -> list[tuple[str, Obj]]:
        """Return (pod name, event) for every event about the workload's pods."""
        found = []
        for pod in self.pods:
            for event in self.events_for("Pod", name_of(pod)):
                if reasons is None or same(event.get("reason"), *reasons):
                    found.append((name_of(pod), event))
        return found

    def replicaset_events(self, reasons: set[str] | None = None) -> list[tuple[str, Obj]]:
        """Return (ReplicaSet name, event) for every event about the Deployment's ReplicaSets."""
        found = []
        for rs in self.context.replicasets:
            for event in self.events_for("ReplicaSet", name_of(rs)):
                if reasons is None or same(event.get("reason"), *reasons):
                    found.append((name_of(rs), event))
        return found

    def creator_events(self, reasons: set[str] | None = None) -> list[tuple[str, str, Obj]]:
        """Return (kind, name, event) for every event about the objects that create the pods:
        a Deployment's ReplicaSets, a StatefulSet, DaemonSet or Job itself, a CronJob's Jobs."""
        creators = [("ReplicaSet", name_of(rs)) for rs in self.context.replicasets]
        creators += [("Job", name_of(job)) for job in self.context.jobs]
        if self.kind in {"StatefulSet", "DaemonSet"}:
            creators.append((self.kind, self.name))
        found = []
        for kind, name in dict.fromkeys(creators):
            for event in self.events_for(kind, name):
                if reasons is None or same(event.get("reason"), *reasons):
                    found.append((kind, name, event))
        return found

    def creator(self, kind: str, name: str) -> Obj:
        """The object named by `creator_events` (empty when the context lacks it)."""
        pool = {
            "ReplicaSet": self.context.replicasets,
            "Job": self.context.jobs,
        }.get(kind, [self.top])
        return next((obj for obj in pool if name_of(obj) == name), {})

    def deployment_events(self, reasons: set[str] | None = None) -> list[Obj]:
        """Return the events about the top-level workload itself."""
        return [
            event
            for event in self.events_for(self.kind, self.name)
            if reasons is None or same(event.get("reason"), *reasons)
        ]

    @staticmethod
    def event_message(event: Obj) -> str:
        """Return an event's message (core/v1 `message`, events.k8s.io `note`), normalised."""
        return normalize(event.get("message") or event.get("note"))

    @staticmethod
    def event_time(event: Obj) -> Any:
        """Return when an event was last seen, whichever API wrote it."""
        return (
            event.get("lastTimestamp")
            or (event.get("series") or {}).get("lastObservedTime")
            or event.get("eventTime")
            or event.get("firstTimestamp")
        )

    def event_is_recent(self, event: Obj) -> bool:
        """True when the event was last seen within ACTIVE_WINDOW of the snapshot."""
        return self.is_recent(self.event_time(event))

    @staticmethod
    def event_container(event: Obj) -> str | None:
        """Return the container an event is about, from its involvedObject.fieldPath."""
        ref = event.get("involvedObject") or event.get("regarding") or {}
        match = _FIELD_PATH_CONTAINER.search(str(ref.get("fieldPath", "")))
        return match.group(1) if match else None

    @staticmethod
    def event_evidence(kind: str, name: str, event: Obj) -> Evidence:
        count = event.get("count") or (event.get("series") or {}).get("count")
        times = f" (x{count})" if count and int(count) > 1 else ""
        return Evidence(
            source=f"event {kind.lower()}/{name} {event.get('reason', '')}{times}",
            detail=str(event.get("message") or event.get("note") or ""),
        )

    # --- logs ---------------------------------------------------------------------------------

    def log(self, pod: str, container: str, previous: bool = False) -> str:
        source = self.context.previous_logs if previous else self.context.logs
        return source.get(f"{pod}/{container}", "")

    def log_evidence(self, pod: str, container: str, limit: int = 3) -> list[Evidence]:
        """Return the telling lines of a container's logs: its last errors, else its last lines.

        The previous run's log is preferred: that is where a crashed process wrote last.
        """
        for previous in (True, False):
            text = self.log(pod, container, previous)
            lines = [line for line in text.splitlines() if line.strip()]
            if not lines:
                continue
            errors = [line for line in lines if _ERROR_LINE.search(line)]
            chosen = (errors or lines)[-limit:]
            suffix = ".previous.txt" if previous else ".txt"
            return [
                Evidence(source=f"logs/{pod}/{container}{suffix}", detail=line.strip()[:500])
                for line in chosen
            ]
        return []
