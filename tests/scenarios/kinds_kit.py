"""Scenarios of workloads that are not Deployments, shaped as the API server returns them.

`KindScenario` reuses the Deployment kit's revisions, pods, events and logs, and writes the
objects another controller makes: a StatefulSet or DaemonSet with its ControllerRevisions
(pods labelled `controller-revision-hash`: a StatefulSet's with the revision's full name, a
DaemonSet's with its hash), a CronJob with one Job per revision (pods labelled
`batch.kubernetes.io/job-name`), a Job alone, or a bare Pod that nothing owns.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from kit import NODES, NOW, Obj, Revision, Scenario, digest, rv, ts, uid

EPOCH_MINUTES = int(NOW.timestamp()) // 60
"""Minutes since the epoch of the scenarios' clock: a CronJob's Jobs are named
`<cronjob>-<minutes since the epoch of their scheduled time>` (getJobName)."""

_API = {
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ControllerRevision": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
}


def owner(kind: str, name: str, object_uid: str) -> Obj:
    """An ownerReference as controllers write it."""
    return {
        "apiVersion": _API.get(kind, "v1"),
        "blockOwnerDeletion": True,
        "controller": True,
        "kind": kind,
        "name": name,
        "uid": object_uid,
    }


@dataclass
class KindScenario(Scenario):
    """One StatefulSet, DaemonSet, CronJob, Job or bare Pod in one state."""

    kind: str = "StatefulSet"
    job_status: dict[int, Obj] = field(default_factory=dict)
    """A Job's status by revision number (CronJob and Job)."""
    job_spec: Obj = field(default_factory=dict)
    """Fields of the Job spec beyond the template (backoffLimit, activeDeadlineSeconds)."""
    claim_templates: list[Obj] = field(default_factory=list)
    top_status: Obj | None = None

    @property
    def top_uid(self) -> str:
        return uid(self.name, self.kind.lower())

    def expected(self) -> Obj:
        return {**super().expected(), "kind": self.kind}

    # --- names ---------------------------------------------------------------------------

    def revision_hash(self, revision: Revision) -> str:
        return digest(self.name, self.kind, revision.number, length=10)

    def revision_name(self, revision: Revision) -> str:
        """The ControllerRevision's or Job's name."""
        if self.kind in {"CronJob", "Job"}:
            if self.kind == "Job":
                return self.name
            scheduled = EPOCH_MINUTES - int(revision.created_minutes_ago)
            return f"{self.name}-{scheduled}"
        return f"{self.name}-{self.revision_hash(revision)}"

    def rs_name(self, revision: Revision) -> str:
        return self.revision_name(revision)

    def pod_name(self, revision: Revision, index: int) -> str:
        if self.kind == "Pod":
            return self.name
        if self.kind == "StatefulSet":
            return f"{self.name}-{index}"
        if self.kind == "DaemonSet":
            return f"{self.name}-{digest(self.name, revision.number, index, length=5)}"
        job = self.revision_name(revision)
        return f"{job}-{digest(job, index, length=5)}"

    def job_uid(self, revision: Revision) -> str:
        return self.top_uid if self.kind == "Job" else uid(self.name, "job", revision.number)

    # --- objects -----------------------------------------------------------------------------

    def template(self, revision: Revision) -> Obj:
        template = super().template(revision)
        if self.kind in {"CronJob", "Job"}:
            template["spec"]["restartPolicy"] = "Never"
        return template

    def job_labels(self, revision: Revision) -> Obj:
        job_uid = self.job_uid(revision)
        name = self.revision_name(revision)
        return {
            "batch.kubernetes.io/controller-uid": job_uid,
            "batch.kubernetes.io/job-name": name,
            "controller-uid": job_uid,
            "job-name": name,
        }

    def _job_spec(self, revision: Revision) -> Obj:
        template = self.template(revision)
        template["metadata"]["labels"].update(self.job_labels(revision))
        return {
            "backoffLimit": 6,
            "completionMode": "NonIndexed",
            "completions": 1,
            "manualSelector": False,
            "parallelism": 1,
            "podReplacementPolicy": "TerminatingOrFailed",
            "selector": {
                "matchLabels": {
                    "batch.kubernetes.io/controller-uid": self.job_uid(revision),
                }
            },
            "suspend": False,
            **copy.deepcopy(self.job_spec),
            "template": template,
        }

    def job(self, revision: Revision) -> Obj:
        name = self.revision_name(revision)
        metadata: Obj = {
            "creationTimestamp": ts(revision.created_minutes_ago),
            "generation": 1,
            "labels": {**self.labels, **self.job_labels(revision)},
            "name": name,
            "namespace": self.namespace,
            "resourceVersion": rv(name, "job"),
            "uid": self.job_uid(revision),
        }
        if self.kind == "CronJob":
            metadata["annotations"] = {
                "batch.kubernetes.io/cronjob-scheduled-timestamp": ts(revision.created_minutes_ago)
            }
            metadata["ownerReferences"] = [owner("CronJob", self.name, self.top_uid)]
        status = copy.deepcopy(self.job_status.get(revision.number)) or {
            "completionTime": ts(max(revision.created_minutes_ago - 3, 0)),
            "conditions": [
                {
                    "lastProbeTime": ts(max(revision.created_minutes_ago - 3, 0)),
                    "lastTransitionTime": ts(max(revision.created_minutes_ago - 3, 0)),
                    "message": "Reached expected number of succeeded pods",
                    "reason": "CompletionsReached",
                    "status": "True",
                    "type": "SuccessCriteriaMet",
                },
                {
                    "lastProbeTime": ts(max(revision.created_minutes_ago - 3, 0)),
                    "lastTransitionTime": ts(max(revision.created_minutes_ago - 3, 0)),
                    "message": "Reached expected number of succeeded pods",
                    "reason": "CompletionsReached",
                    "status": "True",
                    "type": "Complete",
                },
            ],
            "ready": 0,
            "startTime": ts(revision.created_minutes_ago),
            "succeeded": 1,
            "terminating": 0,
            "uncountedTerminatedPods": {},
        }
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": metadata,
            "spec": self._job_spec(revision),
            "status": status,
        }

    def controller_revision(self, revision: Revision) -> Obj:
        hash_ = self.revision_hash(revision)
        template = self.template(revision)
        template["$patch"] = "replace"
        label = (
            "controller.kubernetes.io/hash"
            if self.kind == "StatefulSet"
            else "controller-revision-hash"
        )
        return {
            "apiVersion": "apps/v1",
            "data": {"spec": {"template": template}},
            "kind": "ControllerRevision",
            "metadata": {
                "annotations": {"deprecated.daemonset.template.generation": str(revision.number)}
                if self.kind == "DaemonSet"
                else {},
                "creationTimestamp": ts(revision.created_minutes_ago),
                "labels": {"app.kubernetes.io/name": self.name, label: hash_},
                "name": self.revision_name(revision),
                "namespace": self.namespace,
                "ownerReferences": [owner(self.kind, self.name, self.top_uid)],
                "resourceVersion": rv(self.name, "cr", revision.number),
                "uid": uid(self.name, "cr", revision.number),
            },
            "revision": revision.number,
        }

    def _top_metadata(self) -> Obj:
        return {
            "creationTimestamp": ts(60 * 24 * 90),
            "generation": self.revisions[-1].number,
            "labels": dict(self.labels),
            "name": self.name,
            "namespace": self.namespace,
            "resourceVersion": rv(self.name, self.kind),
            "uid": self.top_uid,
        }

    def statefulset(self) -> Obj:
        current = self.revisions[-1]
        ready = sum(r.ready for r in self.revisions)
        older = self.revisions[-2] if len(self.revisions) > 1 else current
        serving = older if any(r.ready for r in self.revisions[:-1]) else current
        status = self.top_status or {
            "availableReplicas": ready,
            "collisionCount": 0,
            "currentReplicas": serving.replicas,
            "currentRevision": self.revision_name(serving),
            "observedGeneration": current.number,
            "readyReplicas": ready,
            "replicas": sum(r.replicas for r in self.revisions),
            "updateRevision": self.revision_name(current),
            "updatedReplicas": current.replicas,
        }
        spec: Obj = {
            "persistentVolumeClaimRetentionPolicy": {
                "whenDeleted": "Retain",
                "whenScaled": "Retain",
            },
            "podManagementPolicy": "OrderedReady",
            "replicas": self.replicas,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": {"app.kubernetes.io/name": self.name}},
            "serviceName": self.name,
            "template": self.template(current),
            "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
        }
        if self.claim_templates:
            spec["volumeClaimTemplates"] = copy.deepcopy(self.claim_templates)
        return {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": self._top_metadata(),
            "spec": spec,
            "status": {k: v for k, v in status.items() if v is not None},
        }

    def daemonset(self) -> Obj:
        current = self.revisions[-1]
        ready = sum(r.ready for r in self.revisions)
        scheduled = sum(r.replicas for r in self.revisions)
        status = self.top_status or {
            "currentNumberScheduled": scheduled,
            "desiredNumberScheduled": self.replicas,
            "numberAvailable": ready,
            "numberMisscheduled": 0,
            "numberReady": ready,
            "numberUnavailable": self.replicas - ready,
            "observedGeneration": current.number,
            "updatedNumberScheduled": current.replicas,
        }
        metadata = self._top_metadata()
        metadata["annotations"] = {"deprecated.daemonset.template.generation": str(current.number)}
        return {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": metadata,
            "spec": {
                "revisionHistoryLimit": 10,
                "selector": {"matchLabels": {"app.kubernetes.io/name": self.name}},
                "template": self.template(current),
                "updateStrategy": {
                    "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
                    "type": "RollingUpdate",
                },
            },
            "status": {k: v for k, v in status.items() if v},
        }

    def cronjob(self) -> Obj:
        current = self.revisions[-1]
        template = self.template(current)
        job_spec = {
            "backoffLimit": 6,
            **copy.deepcopy(self.job_spec),
            "template": template,
        }
        status: Obj = {"lastScheduleTime": ts(current.created_minutes_ago)}
        succeeded = [r for r in self.revisions if r.number not in self.job_status]
        if succeeded:
            status["lastSuccessfulTime"] = ts(max(succeeded[-1].created_minutes_ago - 3, 0))
        return {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": self._top_metadata(),
            "spec": {
                "concurrencyPolicy": "Forbid",
                "failedJobsHistoryLimit": 1,
                "jobTemplate": {"metadata": {"creationTimestamp": None}, "spec": job_spec},
                "schedule": "30 * * * *",
                "successfulJobsHistoryLimit": 3,
                "suspend": False,
            },
            "status": self.top_status or status,
        }

    def workload_objects(self) -> list[Obj]:
        if self.kind == "Pod":
            return []
        if self.kind == "Job":
            return [self.job(self.revisions[-1])]
        if self.kind == "CronJob":
            return [self.cronjob(), *(self.job(r) for r in self.revisions)]
        top = self.statefulset() if self.kind == "StatefulSet" else self.daemonset()
        return [top, *(self.controller_revision(r) for r in self.revisions)]

    # --- pods and events -------------------------------------------------------------------

    def pod(self, revision: Revision, index: int, statuses: list[Obj], **kwargs: object) -> str:  # type: ignore[override]
        name = super().pod(revision, index, statuses, **kwargs)  # type: ignore[arg-type]
        pod = self.objects[-1]
        metadata = pod["metadata"]
        labels = dict(metadata["labels"])
        labels.pop("pod-template-hash", None)
        metadata.pop("generateName", None)
        if self.kind == "Pod":
            metadata.pop("ownerReferences", None)
            pod["metadata"]["labels"] = labels
            return name
        if self.kind == "StatefulSet":
            labels.update(
                {
                    "apps.kubernetes.io/pod-index": str(index),
                    "controller-revision-hash": self.revision_name(revision),
                    "statefulset.kubernetes.io/pod-name": name,
                }
            )
            metadata["generateName"] = f"{self.name}-"
            pod["spec"]["hostname"] = name
            pod["spec"]["subdomain"] = self.name
            metadata["ownerReferences"] = [owner("StatefulSet", self.name, self.top_uid)]
        elif self.kind == "DaemonSet":
            labels.update(
                {
                    "controller-revision-hash": self.revision_hash(revision),
                    "pod-template-generation": str(revision.number),
                }
            )
            metadata["generateName"] = f"{self.name}-"
            node = NODES[index % len(NODES)]
            pod["spec"]["affinity"] = {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchFields": [
                                    {"key": "metadata.name", "operator": "In", "values": [node]}
                                ]
                            }
                        ]
                    }
                }
            }
            metadata["ownerReferences"] = [owner("DaemonSet", self.name, self.top_uid)]
        else:
            labels.update(self.job_labels(revision))
            metadata["generateName"] = f"{self.revision_name(revision)}-"
            metadata["ownerReferences"] = [
                owner("Job", self.revision_name(revision), self.job_uid(revision))
            ]
        metadata["labels"] = labels
        return name

    def event(self, kind: str, name: str, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        super().event(kind, name, *args, **kwargs)  # type: ignore[arg-type]
        involved = self.objects[-1]["involvedObject"]
        involved["apiVersion"] = _API.get(kind, "v1")
        if kind == "Job":
            involved["uid"] = next(
                (self.job_uid(r) for r in self.revisions if self.revision_name(r) == name),
                uid(name, kind),
            )
        elif kind in {"CronJob", "StatefulSet", "DaemonSet"}:
            involved["uid"] = (
                self.top_uid if kind == self.kind and name == self.name else uid(name, kind)
            )
