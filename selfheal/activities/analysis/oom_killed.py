"""OOMKilled: a container killed by the kernel at its memory limit, even behind CrashLoopBackOff."""

from __future__ import annotations

from selfheal.activities.analysis.memory_trend import MemoryTrend, Shape, memory_trend
from selfheal.activities.analysis.messages import same
from selfheal.activities.analysis.workload import ContainerStatus, WorkloadView
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory, Evidence, FixHint, FixKind

MAX_PODS_CITED = 2


def memory_trends(view: WorkloadView, names: list[str]) -> dict[str, MemoryTrend]:
    """What the metrics say each container's working set did, where they say anything."""
    metrics = view.context.metrics
    if metrics is None:
        return {}
    trends = {}
    for name in names:
        container = metrics.container(name)
        trend = memory_trend(container) if container else None
        if trend is not None:
            trends[name] = trend
    return trends


def memory_limit(view: WorkloadView, container: str) -> str | None:
    """Return the memory limit the Deployment gives `container`, if it sets one."""
    resources = view.template_container(container).get("resources") or {}
    limit = (resources.get("limits") or {}).get("memory")
    return str(limit) if limit is not None else None


class OomKilled:
    """A container whose current or last termination has reason OOMKilled (exit 137)."""

    name = "oom_killed"

    def diagnose(self, view: WorkloadView) -> Diagnosis | None:
        killed: dict[str, list[tuple[ContainerStatus, str]]] = {}
        for container in view.containers:
            for path, state in view.live_terminations(container):
                if same(state.get("reason"), "OOMKilled"):
                    killed.setdefault(container.name, []).append((container, path))
                    break
        if not killed:
            return None

        names = view.container_order(set(killed))
        evidence: list[Evidence] = []
        limits: dict[str, str | None] = {}
        restarts = 0
        for name in names:
            for container, path in killed[name][:MAX_PODS_CITED]:
                state = (
                    container.terminated
                    if path == "state.terminated"
                    else container.last_terminated
                )
                evidence.append(container.state_evidence(path, state))
                if container.waiting:
                    evidence.append(container.state_evidence("state.waiting", container.waiting))
                restarts = max(restarts, container.restart_count)
            limits[name] = memory_limit(view, name)
            if limits[name]:
                evidence.append(
                    Evidence(
                        source=f"{view.ref} {view.containers_path}[{name}].resources.limits.memory",
                        detail=str(limits[name]),
                    )
                )
            first = killed[name][0][0]
            evidence += view.log_evidence(first.pod, name, limit=2)

        described = ", ".join(
            f"{name} (limit {limits[name]})" if limits[name] else f"{name} (no memory limit)"
            for name in names
        )
        pods = len({c.pod for entries in killed.values() for c, _ in entries})
        hidden = any(
            same(c.waiting.get("reason"), "CrashLoopBackOff") for e in killed.values() for c, _ in e
        )
        summary = (
            f"Container {described} is OOMKilled (exit 137) in {pods} pod(s)"
            + (", restarting in CrashLoopBackOff" if hidden else "")
            + f"; up to {restarts} restarts"
        )
        unlimited = [name for name in names if not limits[name]]
        if unlimited:
            return Diagnosis(
                category=DiagnosisCategory.OOM_KILLED,
                summary=summary,
                evidence=evidence,
                confidence=0.85,
                containers=names,
                suggested_fix=FixKind.NONE,
                recommendation=(
                    f"{', '.join(unlimited)} has no memory limit, so the node itself ran out of "
                    "memory: set requests/limits from observed usage and check the node's "
                    "other pods."
                ),
            )
        trends = memory_trends(view, names)
        metrics = view.context.metrics
        source = f"prometheus {metrics.source or '(snapshot)'}" if metrics else ""
        evidence += [
            Evidence(
                source=f"{source} container_memory_working_set_bytes[{name}]",
                detail=trend.detail,
            )
            for name, trend in trends.items()
        ]
        leaking = [name for name, trend in trends.items() if trend.shape == Shape.LEAK]
        if leaking:
            recommendation = (
                f"The working set of {', '.join(leaking)} grows steadily until the kernel "
                "kills it: a memory leak. The bounded raise only buys time before the next "
                "kill; find and fix the leak (a heap profile of a long-running pod)."
            )
        elif trends and len(trends) == len(names):
            recommendation = (
                "The working set sits at the limit rather than growing into it: the limit is "
                "undersized for what the container needs. Raise it (bounded)."
            )
        else:
            recommendation = (
                "Raise the memory limit (bounded), then check whether usage keeps growing: "
                "a leak needs a code fix, not only more memory."
            )
        return Diagnosis(
            category=DiagnosisCategory.OOM_KILLED,
            summary=summary,
            evidence=evidence,
            confidence=0.9 if leaking else 0.95,
            containers=names,
            suggested_fix=FixKind.INCREASE_MEMORY,
            recommendation=recommendation,
            hint=FixHint(memory_leak=leaking) if leaking else None,
        )
