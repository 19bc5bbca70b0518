"""The demo apps' own HTTP metrics, as an instrumented app exports them, and the app faults
that make them answer with server errors.

Each running container of an image that gets synthetic traffic (`ImageBehaviour.traffic_rps`
> 0: checkout, payments, catalog) counts `http_requests_total{namespace, pod, container,
code}`. Traffic goes where a Service sends it: shared evenly among the app's serving pods
(the kubelet's load model), none to a pod still starting. A pod answers "200", or "500" for
the share its workload's app fault sets; both codes are exported from the first scrape (at
0), as instrumentation libraries advise, so a ratio has a denominator at once.

The counters accumulate between scrapes at the rate in force (a fault set or cleared moves
the counts from then on, like a real app's), per container run: a restarted container starts
again from 0 with the same labels, which `rate()` reads as a counter reset.

    GET    /sandbox/v1/app-faults    the faults in force
    PUT    /sandbox/v1/app-faults    {"namespace", "workload", "error_ratio"}: the workload's
                                     pods answer that share of requests with 500, whichever
                                     pods it runs (a fault outlives a rollout or a restart)
    DELETE /sandbox/v1/app-faults?namespace=&workload=   clear one; with neither, clear all
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

import httpx
from pydantic import BaseModel, Field

from selfheal_lab.sandbox.kube.exposition import Family
from selfheal_lab.sandbox.kube.kubelet import ContainerRun, Kubelet
from selfheal_lab.sandbox.kube.resources import PODS, REPLICASETS
from selfheal_lab.sandbox.kube.store import Obj, Store

APP_FAULTS_PATH = "/sandbox/v1/app-faults"


class AppFault(BaseModel):
    """The body of `PUT /sandbox/v1/app-faults`: the share of a workload's requests that fail."""

    namespace: str = Field(min_length=1)
    workload: str = Field(min_length=1)
    error_ratio: float = Field(ge=0.0, le=1.0)


class AppFaults:
    """The app faults in force, by (namespace, workload); safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ratios: dict[tuple[str, str], float] = {}

    def set(self, fault: AppFault) -> None:
        with self._lock:
            self._ratios[(fault.namespace, fault.workload)] = fault.error_ratio

    def clear(self, namespace: str | None = None, workload: str | None = None) -> int:
        """Clear the faults matching `namespace` and `workload` (None: any); return how many."""
        with self._lock:
            gone = [
                key
                for key in self._ratios
                if namespace in (None, key[0]) and workload in (None, key[1])
            ]
            for key in gone:
                del self._ratios[key]
            return len(gone)

    def ratio(self, namespace: str, workload: str) -> float:
        with self._lock:
            return self._ratios.get((namespace, workload), 0.0)

    def listing(self) -> list[AppFault]:
        with self._lock:
            return [
                AppFault(namespace=ns, workload=name, error_ratio=ratio)
                for (ns, name), ratio in sorted(self._ratios.items())
            ]


def workload_name(store: Store, pod: Obj) -> str:
    """The name of the workload that owns `pod`: a ReplicaSet's Deployment, or the direct
    owner (StatefulSet, DaemonSet, Job); the pod's own name when nothing owns it."""
    meta = pod["metadata"]
    owner = next(iter(meta.get("ownerReferences") or []), None)
    if owner is None:
        return str(meta["name"])
    if owner.get("kind") == "ReplicaSet":
        replica_set = store.find(REPLICASETS, meta.get("namespace", ""), owner["name"])
        parents = (replica_set or {}).get("metadata", {}).get("ownerReferences") or []
        if parents:
            return str(parents[0]["name"])
    return str(owner["name"])


@dataclass
class _Counts:
    at: float
    ok: float = 0.0
    errors: float = 0.0


@dataclass
class AppMetrics:
    """Renders `http_requests_total` for the kubelet's running containers, remembering each
    container run's counts between scrapes."""

    kubelet: Kubelet
    faults: AppFaults = field(default_factory=AppFaults)
    _counts: dict[str, _Counts] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def families(self, now: float | None = None) -> list[Family]:
        """The apps' series at monotonic time `now`."""
        now = time.monotonic() if now is None else now
        requests = Family(
            "http_requests_total", "counter", "HTTP requests answered, by status code."
        )
        seen: set[str] = set()
        with self._lock:
            for pod in self.kubelet.store.peek(PODS):
                pod_run = self.kubelet.pod_run(pod["metadata"].get("uid", ""))
                if pod_run is None:
                    continue
                meta = pod["metadata"]
                workload = workload_name(self.kubelet.store, pod)
                ratio = self.faults.ratio(meta.get("namespace", ""), workload)
                for name, run in pod_run.containers.items():
                    counts = self._advance(pod, run, ratio, now)
                    if counts is None:
                        continue
                    seen.add(run.container_id)
                    labels = {"namespace": meta["namespace"], "pod": meta["name"]}
                    requests.add(math.floor(counts.ok), code="200", container=name, **labels)
                    requests.add(math.floor(counts.errors), code="500", container=name, **labels)
            for gone in set(self._counts) - seen:
                del self._counts[gone]
        return [requests]

    def _advance(self, pod: Obj, run: ContainerRun, ratio: float, now: float) -> _Counts | None:
        """Count the requests `run` answered since the last scrape; None when it serves no
        synthetic traffic (not running, or an image that gets none)."""
        image, process = run.image, run.process
        if run.stage != "running" or image is None or process is None or not image.traffic_rps:
            return None
        counts = self._counts.setdefault(run.container_id, _Counts(at=now))
        if now >= run.started_wall + self.kubelet.timing.wall(process.startup_seconds):
            served = image.traffic_rps / self.kubelet.serving(pod) * (now - counts.at)
            counts.errors += served * ratio
            counts.ok += served * (1.0 - ratio)
        counts.at = now
        return counts


def set_app_fault(kube_url: str, namespace: str, workload: str, error_ratio: float) -> None:
    """Make the sandbox at `kube_url` answer `error_ratio` of `workload`'s requests with 500."""
    body = {"namespace": namespace, "workload": workload, "error_ratio": error_ratio}
    httpx.put(f"{kube_url}{APP_FAULTS_PATH}", json=body, timeout=10).raise_for_status()


def clear_app_fault(kube_url: str, namespace: str, workload: str) -> None:
    """Clear the app fault of `workload` on the sandbox at `kube_url`."""
    params = {"namespace": namespace, "workload": workload}
    httpx.delete(f"{kube_url}{APP_FAULTS_PATH}", params=params, timeout=10).raise_for_status()
