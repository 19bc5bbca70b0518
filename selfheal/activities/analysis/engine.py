"""The rules engine: runs the registered rules over a workload and names its failure, if any."""

from __future__ import annotations

from selfheal.activities.analysis.evicted import evicted_at, is_evicted
from selfheal.activities.analysis.messages import same
from selfheal.activities.analysis.registry import RULES
from selfheal.activities.analysis.workload import WorkloadView
from selfheal.contracts.kubernetes import ClusterContext
from selfheal.kube_objects import name_of
from selfheal.model.alerts import Alert
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory, Evidence, FixKind

TRANSIENT_WAITING = {"ContainerCreating", "PodInitializing"}


def diagnose_context(alert: Alert | None, context: ClusterContext) -> Diagnosis:
    """Return the rules' diagnosis of a workload's context; needs no network.

    The cluster is the only witness: the alert is cited, never believed, so a healthy
    workload is "no fault found" whatever the alert says.
    """
    view = WorkloadView(context, alert)
    if context.workload_object() is None:
        return Diagnosis(
            category=DiagnosisCategory.UNKNOWN,
            summary=f"{context.kind} {context.namespace}/{context.workload} was not found",
            confidence=0.5,
            recommendation=f"Check whether the {context.kind} was deleted or renamed, or "
            "whether the alert names the wrong workload.",
        )
    for rule in RULES:
        diagnosis = rule.diagnose(view)
        if diagnosis is not None:
            return diagnosis
    signs = unhealthy_signs(view)
    if signs:
        return Diagnosis(
            category=DiagnosisCategory.UNKNOWN,
            summary=f"{view.kind} {view.name} is unhealthy but matches no known failure class: "
            + signs[0].detail,
            evidence=signs,
            confidence=0.3,
            containers=[str(c.get("name")) for c in view.template_containers()],
            suggested_fix=FixKind.NONE,
            recommendation="Investigate by hand: the evidence lists what looks wrong.",
        )
    return healthy(view)


def unhealthy_signs(view: WorkloadView) -> list[Evidence]:
    """Return what looks wrong that no rule explained: unready pods, odd phases, a stuck rollout."""
    signs = []
    for pod in view.pods:
        status = pod.get("status") or {}
        if is_evicted(pod) and not view.is_recent(evicted_at(view, pod)):
            continue  # an old eviction lingers until garbage collection; it is not live
        if status.get("phase") not in {"Running", "Succeeded", "Pending"}:
            detail = " ".join(
                f"{key}={status[key]}" for key in ("phase", "reason", "message") if status.get(key)
            )
            signs.append(Evidence(source=f"pod/{name_of(pod)} status", detail=detail))
    for container in view.containers:
        reason = container.waiting.get("reason")
        if reason and not same(reason, *TRANSIENT_WAITING):
            signs.append(container.state_evidence("state.waiting", container.waiting))
        elif container.running and not container.ready and not container.init:
            signs.append(
                Evidence(
                    source=f"{container.source}.ready",
                    detail=f"container {container.name} running since "
                    f"{container.running.get('startedAt', '?')} but not ready",
                )
            )
    for condition_type in ("Available", "Progressing"):
        condition = view.deployment_condition(condition_type)
        if condition.get("status") == "False":
            signs.append(
                Evidence(
                    source=f"{view.ref} status.conditions[{condition_type}]",
                    detail=f"status=False reason={condition.get('reason', '')} "
                    f"message={condition.get('message', '')}",
                )
            )
    return signs


def healthy(view: WorkloadView) -> Diagnosis:
    """Return the "no fault found" diagnosis, citing what shows the workload healthy.

    It says what the cluster shows and no more: an alert still firing about this workload
    points at something pod state cannot show, which is a person's to find.
    """
    desired, available = view.desired_replicas, view.status_count("availableReplicas")
    ready = view.status_count("readyReplicas")
    restarts = sum(container.restart_count for container in view.containers)
    warnings = [event for event in view.context.events if event.get("type") == "Warning"]
    seen = [
        f"{ready}/{desired} pods ready",
        f"{restarts} container restart(s)" if restarts else "no restarts",
        f"{len(warnings)} warning event(s)" if warnings else "no warning events",
    ]
    summary = f"No fault found: {view.name} shows {', '.join(seen)}"
    if view.alert is not None:
        summary += f"; alert {view.alert.name} is not borne out by the cluster"
    return Diagnosis(
        category=DiagnosisCategory.UNKNOWN,
        summary=summary,
        fault_found=False,
        evidence=[
            Evidence(
                source=f"{view.ref} status",
                detail=f"replicas desired={desired} available={available} "
                f"ready={ready} updated={view.status_count('updatedReplicas')}",
            )
        ],
        confidence=0.9,
        containers=[],
        suggested_fix=FixKind.NONE,
        recommendation="Look where pod state cannot: the workload's dependencies (databases, "
        "DNS, NetworkPolicies), its configuration values and its recent changes; if all are "
        "well, the alert rule itself.",
    )
