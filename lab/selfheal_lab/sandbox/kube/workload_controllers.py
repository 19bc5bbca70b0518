"""The controllers for the workload kinds beyond Deployments, run together in one sync."""

from __future__ import annotations

from dataclasses import dataclass

from selfheal_lab.sandbox.kube.cronjobs import CronJobController
from selfheal_lab.sandbox.kube.daemonset import DaemonSetController
from selfheal_lab.sandbox.kube.events import EventRecorder
from selfheal_lab.sandbox.kube.jobs import JobController
from selfheal_lab.sandbox.kube.kubelet import Timing
from selfheal_lab.sandbox.kube.statefulset import StatefulSetController
from selfheal_lab.sandbox.kube.storage import VolumeController
from selfheal_lab.sandbox.kube.store import Store


@dataclass
class WorkloadControllers:
    """The volume, StatefulSet, DaemonSet, Job and CronJob controllers."""

    volumes: VolumeController
    stateful_sets: StatefulSetController
    daemon_sets: DaemonSetController
    jobs: JobController
    cron_jobs: CronJobController

    @classmethod
    def create(cls, store: Store, events: EventRecorder, timing: Timing) -> WorkloadControllers:
        """Return the controllers over one store, on the sandbox's simulated time."""
        return cls(
            volumes=VolumeController(store, events, timing.wall(timing.scheduler_retry_seconds)),
            stateful_sets=StatefulSetController(store, events),
            daemon_sets=DaemonSetController(store, events),
            jobs=JobController(store, events, timing),
            cron_jobs=CronJobController(store, events),
        )

    def sync(self) -> None:
        """Run one pass of each, in an order that lets one pass go furthest: a Job created
        now gets its pods at once, a claim created now is bound before its pod is scheduled."""
        self.cron_jobs.sync()
        self.jobs.sync()
        self.stateful_sets.sync()
        self.daemon_sets.sync()
        self.volumes.sync()
