"""Which Kubernetes workload a set of labels names, read as kube-state-metrics and
kube-prometheus label it: for alerts (Alertmanager, PagerDuty details) and for the series of
an alert's expression (verification by the symptom)."""

from __future__ import annotations

import re
from typing import NamedTuple

# Kubernetes generates ReplicaSet hashes and pod suffixes from this alphabet (no vowels).
_SAFE = "[bcdfghjklmnpqrstvwxz2456789]"
_DEPLOYMENT_POD = re.compile(rf"^(?P<name>.+)-{_SAFE}{{1,10}}-{_SAFE}{{5}}$")
_REPLICASET = re.compile(rf"^(?P<name>.+)-{_SAFE}{{1,10}}$")
# The CronJob controller names each Job `<cronjob>-<scheduled time in minutes since the
# epoch>` (getJobName in pkg/controller/cronjob/utils.go); the Job's pods add `-<5>`.
_CRONJOB_JOB = re.compile(r"^(?P<name>.+)-(?P<minutes>[1-9][0-9]{7})$")
_CRONJOB_POD = re.compile(rf"^(?P<name>.+)-(?P<minutes>[1-9][0-9]{{7}})-{_SAFE}{{5}}$")
# Minutes since the epoch from 2000 to 2100: eight digits. A Job named by hand with an
# eight-digit suffix reads as a CronJob's; its own `cronjob` label, when present, decides.
_MINUTES = range(15_778_080, 68_374_080)
# A StatefulSet names its pods `<name>-<ordinal>`; ordinals have no leading zero.
_STATEFULSET_POD = re.compile(r"^(?P<name>.+)-(?P<ordinal>0|[1-9][0-9]{0,3})$")

_EXPLICIT = (
    ("deployment", "Deployment"),
    ("statefulset", "StatefulSet"),
    ("daemonset", "DaemonSet"),
    ("cronjob", "CronJob"),
)
"""kube-state-metrics labels that name a workload outright, and its kind."""

_APP_LABELS = ("app_kubernetes_io_name", "app")


class LabelledWorkload(NamedTuple):
    """The workload an alert's labels name: its kind and name."""

    kind: str
    name: str


def workload_of(labels: dict[str, str]) -> LabelledWorkload | None:
    """The workload an alert's labels name, with its kind: directly (`deployment`,
    `statefulset`, `daemonset`, `cronjob`, `job_name`), through a Deployment's ReplicaSet,
    or through a pod's name; else the app labels (or `service`) name a Deployment."""
    for label, kind in _EXPLICIT:
        if labels.get(label):
            return LabelledWorkload(kind, labels[label])
    if job := labels.get("job_name"):
        return _cronjob_of(_CRONJOB_JOB, job) or LabelledWorkload("Job", job)
    if (match := _REPLICASET.match(labels.get("replicaset", ""))) is not None:
        return LabelledWorkload("Deployment", match["name"])
    pod = labels.get("pod", "")
    if found := _cronjob_of(_CRONJOB_POD, pod):
        return found
    if (match := _DEPLOYMENT_POD.match(pod)) is not None:
        return LabelledWorkload("Deployment", match["name"])
    app = next((labels[key] for key in _APP_LABELS if labels.get(key)), None)
    # `web-0` is a StatefulSet's pod or a bare Pod named so: only a pod name whose prefix
    # the app label repeats, or one with no app label at all, is read as a StatefulSet's.
    stateful = _STATEFULSET_POD.match(pod)
    if stateful is not None and app in (None, stateful["name"]):
        return LabelledWorkload("StatefulSet", stateful["name"])
    if app:
        return LabelledWorkload("Deployment", app)
    # `service` last: on kube-state-metrics alerts it names the exporter, not the workload.
    if labels.get("service"):
        return LabelledWorkload("Deployment", labels["service"])
    return None


def _cronjob_of(pattern: re.Pattern[str], name: str) -> LabelledWorkload | None:
    """The CronJob whose Job (or the Job's pod) is called `name`, if the name says so."""
    match = pattern.match(name)
    if match is None or int(match["minutes"]) not in _MINUTES:
        return None
    return LabelledWorkload("CronJob", match["name"])
