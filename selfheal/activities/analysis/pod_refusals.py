"""What the API server told the ReplicaSet controller when it tried to create the pods.

The controller records each refusal as a `FailedCreate` event on the ReplicaSet, "Error
creating: <err>" (pkg/controller/controller_utils.go), and sets the ReplicaSet condition
`ReplicaFailure` (reason FailedCreate, message <err>), which the Deployment copies. A
refusal is live while that condition stands, or while a recent FailedCreate event is about
a ReplicaSet still short of the pods it wants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selfheal.activities.analysis.messages import normalize, same
from selfheal.activities.analysis.workload import WorkloadView
from selfheal.kube_objects import Obj, name_of
from selfheal.model.diagnosis import Evidence

_ERROR_CREATING = re.compile(r"^error creating: ", re.IGNORECASE)
_STATEFULSET_FAILED = re.compile(
    r"^create pod \S+ in statefulset \S+ failed error: ", re.IGNORECASE
)


@dataclass(frozen=True)
class Refusal:
    """One refused pod creation: the API server's answer, and where it was read."""

    replicaset: str
    message: str
    """Normalised, without the controller's "Error creating: " prefix."""
    evidence: Evidence


def _short(kind: str, obj: Obj) -> bool:
    """Whether the creator has fewer pods than it wants (a Job: any refusal is live until
    it finishes)."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if kind == "DaemonSet":
        return int(status.get("currentNumberScheduled") or 0) < int(
            status.get("desiredNumberScheduled") or 0
        )
    if kind == "Job":
        return not any(
            same(c.get("type"), "Complete", "Failed") and same(c.get("status"), "True")
            for c in status.get("conditions") or []
        )
    wanted = int(spec.get("replicas") or 0)
    return int(status.get("replicas") or 0) < wanted


def _condition(obj: Obj) -> Obj:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if same(condition.get("type"), "ReplicaFailure") and same(condition.get("status"), "True"):
            return dict(condition)
    return {}


def _condition_evidence(source: str, condition: Obj) -> Evidence:
    return Evidence(
        source=f"{source} status.conditions[ReplicaFailure]",
        detail=f"status=True reason={condition.get('reason', '')} "
        f"message={condition.get('message', '')}",
    )


def refusals(view: WorkloadView) -> list[Refusal]:
    """Return the live refusals of the objects creating the workload's pods, newest first."""
    found: list[Refusal] = []
    failing: set[str] = set()
    by_name = {name_of(rs): rs for rs in view.context.replicasets}
    for revision in reversed(view.revisions):
        condition = _condition(revision.replicaset)
        if condition:
            failing.add(revision.name)
            found.append(
                Refusal(
                    revision.name,
                    normalize(condition.get("message")),
                    _condition_evidence(f"replicaset/{revision.name}", condition),
                )
            )
    deployment_condition = _condition(view.top)
    current = view.current_revision
    if deployment_condition and current is not None:
        failing.add(current.name)
        found.append(
            Refusal(
                current.name,
                normalize(deployment_condition.get("message")),
                _condition_evidence(view.ref, deployment_condition),
            )
        )
    for kind, creator, event in view.creator_events({"FailedCreate"}):
        obj = by_name.get(creator) if kind == "ReplicaSet" else view.creator(kind, creator)
        live = creator in failing or (view.event_is_recent(event) and _short(kind, obj or {}))
        if live:
            message = _ERROR_CREATING.sub("", view.event_message(event))
            # A StatefulSet words it "create Pod db-0 in StatefulSet db failed error: <err>".
            message = _STATEFULSET_FAILED.sub("", message)
            found.append(Refusal(creator, message, view.event_evidence(kind, creator, event)))
    return found
