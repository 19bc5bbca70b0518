"""Crash loops: containers exiting on their own, and whether the latest rollout started it."""

from __future__ import annotations

from selfheal.activities.analysis.messages import same
from selfheal.activities.analysis.workload import (
    ACTIVE_WINDOW,
    ContainerStatus,
    Revision,
    WorkloadView,
)
from selfheal.kube_objects import Obj
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory, Evidence, FixKind

EXIT_CODES = {
    0: "exits with code 0 although a Deployment expects it to keep running",
    1: "exits with code 1 (application error)",
    2: "exits with code 2 (usage or configuration error)",
    126: "exits with code 126 (command not executable)",
    127: "exits with code 127 (command not found)",
    134: "aborts (exit 134, SIGABRT)",
    137: "is killed by SIGKILL (exit 137, not OOMKilled)",
    139: "crashes with a segmentation fault (exit 139)",
    143: "is terminated by SIGTERM (exit 143)",
}


def describe_exit(code: int | None) -> str:
    if code is None:
        return "keeps restarting"
    return EXIT_CODES.get(code, f"exits with code {code}")


def live_crash(view: WorkloadView, container: ContainerStatus) -> tuple[str, Obj] | None:
    """Return the termination that shows the container crashing on its own, if it is.

    A container that is running and ready again has recovered; a crash loop is one that is
    down or waiting to restart now. A Deployment's pod that has finished (phase Failed:
    evicted, rejected, its node shut down) is never restarted, so it is not crash looping.
    """
    if container.ready and not container.waiting and not container.terminated:
        return None
    if view.pod_finished(container.pod):
        return None
    backing_off = same(container.waiting.get("reason"), "CrashLoopBackOff")
    for path, state in view.live_terminations(container):
        if same(state.get("reason"), "OOMKilled"):
            return None
        if state.get("exitCode") not in (None, 0) or backing_off:
            return path, state
    if backing_off:
        return "state.waiting", container.waiting
    return None


def rollout_started_it(
    view: WorkloadView, failing_pods: set[str]
) -> tuple[Revision, Revision] | None:
    """Return (current, previous) revision when the failure began with the latest rollout.

    That is: every failing pod runs the current revision, and either the previous revision
    still serves (the rollout is stuck) or the current one is younger than ACTIVE_WINDOW.
    """
    current, previous = view.current_revision, view.previous_revision
    if current is None or previous is None:
        return None
    numbers = set()
    for pod in failing_pods:
        revision = view.revision_of_pod(view.pod(pod))
        numbers.add(revision.number if revision else None)
    if numbers != {current.number}:
        return None
    created = (current.replicaset.get("metadata") or {}).get("creationTimestamp")
    if previous.ready_replicas > 0 or view.is_recent(created, ACTIVE_WINDOW):
        return current, previous
    return None


class CrashLoop:
    """Containers in CrashLoopBackOff or terminating with a non-zero exit code."""

    name = "crash_loop"

    def diagnose(self, view: WorkloadView) -> Diagnosis | None:
        crashing: dict[str, list[tuple[ContainerStatus, str, Obj]]] = {}
        for container in view.containers:
            found = live_crash(view, container)
            if found:
                crashing.setdefault(container.name, []).append((container, *found))
        if not crashing:
            return None

        names = view.container_order(set(crashing))
        evidence: list[Evidence] = []
        parts = []
        for name in names:
            first, path, state = crashing[name][0]
            evidence.append(first.state_evidence(path, state))
            if first.waiting and path != "state.waiting":
                evidence.append(first.state_evidence("state.waiting", first.waiting))
            code = state.get("exitCode")
            restarts = max(c.restart_count for c, _, _ in crashing[name])
            kind = "init container" if first.init else "container"
            parts.append(
                f"{kind} {name} {describe_exit(code)} in {len(crashing[name])} pod(s), "
                f"{restarts} restarts"
            )
            evidence += view.log_evidence(first.pod, name)

        failing_pods = {c.pod for entries in crashing.values() for c, _, _ in entries}
        rollout = rollout_started_it(view, failing_pods)
        summary = "Crash loop: " + "; ".join(parts)
        if rollout is None:
            current = view.current_revision
            if current is not None:
                evidence.append(view.revision_evidence(current))
                summary += f"; not new with the latest rollout (revision {current.number})"
            return Diagnosis(
                category=DiagnosisCategory.CRASH_LOOP,
                summary=summary,
                evidence=evidence,
                confidence=0.8,
                containers=names,
                suggested_fix=FixKind.NONE,
                recommendation=(
                    "The code that runs now ran before, so a rollback will not help: fix the "
                    "cause in the logs (a dependency, data, or configuration the app reads)."
                ),
            )
        current, previous = rollout
        evidence += [view.revision_evidence(current), view.revision_evidence(previous)]
        changed = {
            name: (previous.images.get(name), image)
            for name, image in current.images.items()
            if previous.images.get(name) not in (None, image)
        }
        summary += f"; started with the rollout of revision {current.number}"
        if changed:
            summary += (
                " (" + ", ".join(f"{n} {old} -> {new}" for n, (old, new) in changed.items()) + ")"
            )
            return Diagnosis(
                category=DiagnosisCategory.CRASH_LOOP,
                summary=summary,
                evidence=evidence,
                confidence=0.85,
                containers=names,
                suggested_fix=FixKind.ROLLBACK_IMAGE,
                recommendation=(
                    f"Roll back to revision {previous.number}, which ran "
                    + ", ".join(f"{old}" for old, _ in changed.values())
                    + "; then fix the new version before redeploying."
                ),
            )
        return Diagnosis(
            category=DiagnosisCategory.CRASH_LOOP,
            summary=summary + " (same images, changed pod template)",
            evidence=evidence,
            confidence=0.8,
            containers=names,
            suggested_fix=FixKind.NONE,
            recommendation=(
                f"Revision {current.number} changed the pod template but not the image: revert "
                f"that change (or `kubectl rollout undo` to revision {previous.number})."
            ),
        )
