"""cAdvisor's container series, as the kubelet serves them on /metrics/cadvisor, for the
containers the simulated kubelet runs.

The usage model is the one `workload.plan_process` plans by: an image needs
`ImageBehaviour.cpu_millis` and `memory_mib`. CPU: a container uses what it needs, up to its
limit; past the limit CFS throttles it, in a share of its 100 ms periods that grows with how
far demand exceeds the limit (min(1, demand/limit - 1)). Memory: the working set grows
over the start-up to what the image needs; a container whose limit is below that grows to
the limit and is OOM-killed there. Counters are in wall-clock seconds since the container
started (a restarted container is a new series, with a new `id`, as in cAdvisor), so
`rate()` over them reads cores.
"""

from __future__ import annotations

import time
from typing import Any

from selfheal_lab.sandbox.kube.exposition import Family
from selfheal_lab.sandbox.kube.kubelet import ContainerRun, Kubelet
from selfheal_lab.sandbox.kube.quantity import parse_quantity
from selfheal_lab.sandbox.kube.resources import PODS
from selfheal_lab.sandbox.kube.store import Obj

CFS_PERIOD_SECONDS = 0.1
MIB = 2**20


def throttled_share(demand_cores: float, limit_cores: float | None) -> float:
    """The share of CFS periods a container needing `demand_cores` is throttled in."""
    if not limit_cores or demand_cores <= limit_cores:
        return 0.0
    return min(1.0, demand_cores / limit_cores - 1.0)


def _limit(container: dict[str, Any], resource: str) -> float | None:
    value = ((container.get("resources") or {}).get("limits") or {}).get(resource)
    return None if value is None else parse_quantity(value)


def _labels(pod: Obj, container: dict[str, Any], run: ContainerRun) -> dict[str, str]:
    meta = pod["metadata"]
    uid, qos = meta["uid"], str((pod.get("status") or {}).get("qosClass", "")).lower()
    cid = run.container_id.split("://", 1)[-1]
    return {
        "container": container["name"],
        "id": f"/kubepods/{qos}/pod{uid}/{cid}"
        if qos != "guaranteed"
        else f"/kubepods/pod{uid}/{cid}",
        "image": str(container.get("image", "")),
        "name": f"k8s_{container['name']}_{meta['name']}_{meta['namespace']}_{uid}_{run.restarts}",
        "namespace": meta["namespace"],
        "pod": meta["name"],
    }


def cadvisor_families(kubelet: Kubelet, now: float | None = None) -> list[Family]:
    """The cAdvisor series of every running container, at monotonic time `now`."""
    now = time.monotonic() if now is None else now
    working_set = Family(
        "container_memory_working_set_bytes", "gauge", "Current working set in bytes."
    )
    memory_limit = Family(
        "container_spec_memory_limit_bytes", "gauge", "Memory limit for the container."
    )
    cpu = Family(
        "container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed in seconds."
    )
    periods = Family(
        "container_cpu_cfs_periods_total",
        "counter",
        "Number of elapsed enforcement period intervals.",
    )
    throttled = Family(
        "container_cpu_cfs_throttled_periods_total",
        "counter",
        "Number of throttled period intervals.",
    )
    throttled_time = Family(
        "container_cpu_cfs_throttled_seconds_total",
        "counter",
        "Total time duration the container has been throttled.",
    )
    timing = kubelet.timing
    for pod in kubelet.store.peek(PODS):
        pod_run = kubelet.pod_run(pod["metadata"].get("uid", ""))
        if pod_run is None:
            continue
        for container in (pod.get("spec") or {}).get("containers") or []:
            run = pod_run.containers.get(container["name"])
            if run is None or run.stage != "running" or run.image is None or run.process is None:
                continue
            labels = _labels(pod, container, run)
            elapsed = max(now - run.started_wall, 0.0)
            memory_cap = _limit(container, "memory")
            need = run.image.memory_mib * MIB
            exit_plan = run.process.exit
            if exit_plan is not None and exit_plan.reason == "OOMKilled" and memory_cap:
                killed_after = max(timing.wall(exit_plan.after_seconds), 1e-3)
                used = memory_cap * min(1.0, elapsed / killed_after)
            else:
                warm = max(timing.wall(run.process.startup_seconds), 1e-3)
                used = need * (0.6 + 0.4 * min(1.0, elapsed / warm))
            working_set.add(round(used), **labels)
            memory_limit.add(memory_cap or 0, **labels)
            demand = run.image.cpu_millis / 1000
            cpu_cap = _limit(container, "cpu")
            cpu.add(min(demand, cpu_cap or demand) * elapsed, **labels)
            if cpu_cap:
                elapsed_periods = elapsed / CFS_PERIOD_SECONDS
                share = throttled_share(demand, cpu_cap)
                periods.add(int(elapsed_periods), **labels)
                throttled.add(int(elapsed_periods * share), **labels)
                # In a throttled period the container ran its quota and waited out the rest.
                waited = CFS_PERIOD_SECONDS * (1.0 - cpu_cap / demand) if share else 0.0
                throttled_time.add(int(elapsed_periods * share) * waited, **labels)
    return [working_set, memory_limit, cpu, periods, throttled, throttled_time]
