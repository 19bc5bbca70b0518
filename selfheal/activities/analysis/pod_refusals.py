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


@dataclass(frozen=True)
class Refusal:
    """One refused pod creation: the API server's answer, and where it was read."""

    replicaset: str
    message: str
    """Normalised, without the controller's "Error creating: " prefix."""
    evidence: Evidence


def _short(rs: Obj) -> bool:
    wanted = int((rs.get("spec") or {}).get("replicas") or 0)
    return int((rs.get("status") or {}).get("replicas") or 0) < wanted


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
    """Return the live refusals of the Deployment's ReplicaSets, newest ReplicaSet first."""
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
    deployment_condition = _condition(view.deployment)
    current = view.current_revision
    if deployment_condition and current is not None:
        failing.add(current.name)
        found.append(
            Refusal(
                current.name,
                normalize(deployment_condition.get("message")),
                _condition_evidence(f"deployment/{view.name}", deployment_condition),
            )
        )
    for rs, event in view.replicaset_events({"FailedCreate"}):
        live = rs in failing or (view.event_is_recent(event) and _short(by_name.get(rs, {})))
        if live:
            message = _ERROR_CREATING.sub("", view.event_message(event))
            found.append(Refusal(rs, message, view.event_evidence("ReplicaSet", rs, event)))
    return found
