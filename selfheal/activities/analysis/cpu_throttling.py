"""CPU throttling: a container held at its CPU limit by CFS, seen only in the metrics.

A throttled pod looks healthy to the API (running, ready, maybe slow to start); the
evidence is cAdvisor's share of throttled CFS periods, which `gather_metrics` reads into
`ClusterContext.metrics`. Without metrics this rule says nothing.
"""

from __future__ import annotations

from selfheal.activities.analysis.workload import WorkloadView
from selfheal.contracts.prometheus import ContainerMetrics, WorkloadMetrics, highest, latest
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory, Evidence, FixKind

THRESHOLD = 0.25
"""kubernetes-mixin's CPUThrottlingHigh threshold: a quarter of the periods throttled."""
RECENT_SAMPLES = 5
"""The newest samples that must show it on average: throttling now, not an hour ago."""
_NOT_THROTTLING_EXITS = {137, 143}
"""Exit codes of a kill (liveness, OOM): a throttled, slow process is killed like this. Any
other non-zero exit is the process's own failure, for the crash rules to explain."""


def _throttled(container: ContainerMetrics) -> bool:
    recent = [value for _, value in container.cpu_throttled_ratio[-RECENT_SAMPLES:]]
    newest = latest(container.cpu_throttled_ratio)
    return (
        bool(recent)
        and newest is not None
        and newest >= THRESHOLD
        and (sum(recent) / len(recent) >= THRESHOLD)
    )


def _crashing_on_its_own(view: WorkloadView, name: str) -> bool:
    for status in view.containers:
        if status.name != name:
            continue
        for _, state in view.live_terminations(status):
            code = int(state.get("exitCode") or 0)
            if code and code not in _NOT_THROTTLING_EXITS:
                return True
    return False


def _metrics_evidence(metrics: WorkloadMetrics, c: ContainerMetrics) -> list[Evidence]:
    ratios = [value for _, value in c.cpu_throttled_ratio]
    over = sum(1 for value in ratios if value >= THRESHOLD)
    source = f"prometheus {metrics.source or '(snapshot)'}"
    window = _span(metrics)
    evidence = [
        Evidence(
            source=f"{source} container_cpu_cfs_throttled_periods_total[{c.container}]",
            detail=f"{latest(c.cpu_throttled_ratio):.0%} of CFS periods throttled now; "
            f"{THRESHOLD:.0%} or more in {over} of {len(ratios)} samples over the last {window}",
        )
    ]
    usage, limit = highest(c.cpu_usage_cores), latest(c.cpu_limit_cores)
    if usage is not None and limit:
        evidence.append(
            Evidence(
                source=f"{source} container_cpu_usage_seconds_total[{c.container}]",
                detail=f"peak {usage:.3g} cores used of a {limit:.3g}-core limit "
                f"({usage / limit:.0%})",
            )
        )
    return evidence


def _span(metrics: WorkloadMetrics) -> str:
    if metrics.start is None or metrics.end is None:
        return "window"
    seconds = int((metrics.end - metrics.start).total_seconds())
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m" if seconds >= 60 else f"{seconds}s"


class CpuThrottling:
    """Containers throttled in at least a quarter of their CFS periods, recently."""

    name = "cpu_throttling"

    def diagnose(self, view: WorkloadView) -> Diagnosis | None:
        metrics = view.context.metrics
        if metrics is None:
            return None
        throttled = {
            c.container: c
            for c in metrics.containers
            if _throttled(c) and not _crashing_on_its_own(view, c.container)
        }
        if not throttled:
            return None
        names = view.container_order(set(throttled))
        evidence: list[Evidence] = []
        limits: dict[str, str | None] = {}
        for name in names:
            evidence += _metrics_evidence(metrics, throttled[name])
            cpu = ((view.template_container(name).get("resources") or {}).get("limits") or {}).get(
                "cpu"
            )
            limits[name] = str(cpu) if cpu is not None else None
            evidence.append(view.resources_evidence(name))
        described = ", ".join(
            f"{name} ({latest(throttled[name].cpu_throttled_ratio):.0%} of periods at limit "
            f"{limits[name] or 'from the namespace'})"
            for name in names
        )
        summary = f"Container {described} is CPU-throttled"
        unset = [name for name in names if not limits[name]]
        if unset:
            return Diagnosis(
                category=DiagnosisCategory.CPU_THROTTLING,
                summary=summary,
                evidence=evidence,
                confidence=0.8,
                containers=names,
                suggested_fix=FixKind.NONE,
                recommendation=(
                    f"{', '.join(unset)} sets no CPU limit of its own: the quota comes from "
                    "the namespace's LimitRange default. Set a limit on the workload, or "
                    "change the default."
                ),
            )
        return Diagnosis(
            category=DiagnosisCategory.CPU_THROTTLING,
            summary=summary,
            evidence=evidence,
            confidence=0.85,
            containers=names,
            suggested_fix=FixKind.INCREASE_CPU,
            recommendation=(
                "Raise the CPU limit (bounded). If usage pins the new limit too, the service "
                "needs more CPU than the bound allows: profile it, or raise the limit by hand."
            ),
        )
