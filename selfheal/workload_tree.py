"""Which objects make up one workload: its top-level object and what it owns, by kind.

Kubernetes links a workload's parts by ownerReferences: Pod → ReplicaSet → Deployment,
Pod → StatefulSet or DaemonSet (with ControllerRevisions beside it), Pod → Job → CronJob,
or a bare Pod with no owner at all. `find_workload` picks the top-level object by kind and
name; `workload_members` follows the references down from it; `top_level_workloads` lists
the tops of every chain, for a snapshot that names none.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from selfheal.contracts.kubernetes import WORKLOAD_KINDS
from selfheal.kube_objects import (
    Obj,
    controller_of,
    kind_of,
    name_of,
    owner_names,
    pod_specs,
    selector_matches,
)


class WorkloadNotFound(ValueError):
    """No workload, or more than one, matches what was asked for."""


@dataclass
class WorkloadMembers:
    """The objects of one workload, sorted out by kind."""

    kind: str
    name: str
    top: Obj | None
    replicasets: list[Obj] = field(default_factory=list)
    jobs: list[Obj] = field(default_factory=list)
    controller_revisions: list[Obj] = field(default_factory=list)
    pods: list[Obj] = field(default_factory=list)

    def involved(self) -> set[tuple[str, str]]:
        """The (kind, name) of every object whose events belong to the workload."""
        found = {(self.kind, self.name)}
        found |= {("ReplicaSet", name_of(rs)) for rs in self.replicasets}
        found |= {("Job", name_of(job)) for job in self.jobs}
        found |= {("Pod", name_of(pod)) for pod in self.pods}
        return found


CONTROLLER_KINDS = frozenset({*WORKLOAD_KINDS, "ReplicaSet"}) - {"Pod"}
"""Kinds whose ownerReference makes an object part of a larger workload."""


def is_top_level(obj: Obj) -> bool:
    """True when a workload object has no controlling owner of a workload kind (a mirror
    pod's Node owner, or an operator's custom resource, leaves it top-level)."""
    owner = controller_of(obj)
    return owner is None or owner[0] not in CONTROLLER_KINDS


def top_level_workloads(objects: list[Obj]) -> list[Obj]:
    """Every workload object at the top of its ownerReferences chain (a CronJob over its
    Jobs, a Deployment over its ReplicaSets' pods, a Pod no controller owns)."""
    return [obj for obj in objects if kind_of(obj) in WORKLOAD_KINDS and is_top_level(obj)]


def describe(obj: Obj) -> str:
    """`Kind/name` of an object, as errors and the CLI name it."""
    return f"{kind_of(obj)}/{name_of(obj)}"


def find_workload(objects: list[Obj], name: str | None, kind: str | None = None) -> Obj:
    """Return the one workload object of `kind` (any workload kind when None) named `name`
    (any name when None); the top of its chain when several kinds share the name.

    Raises WorkloadNotFound naming the candidates when none or several match.
    """
    candidates = [
        obj
        for obj in objects
        if kind_of(obj) in WORKLOAD_KINDS
        and (kind is None or kind_of(obj) == kind)
        and (name is None or name_of(obj) == name)
    ]
    if kind is None:
        tops = [obj for obj in candidates if is_top_level(obj)]
        candidates = _without_selected_pods(tops, objects) or candidates
    if len(candidates) == 1:
        return candidates[0]
    wanted = f"{kind or 'workload'} {name or '(any name)'}"
    names = ", ".join(sorted(describe(obj) for obj in candidates)) or "none"
    raise WorkloadNotFound(
        f"{len(candidates)} {'top-level ' if kind is None else ''}workloads match {wanted} "
        f"({names}); name one with "
        "--workload KIND/NAME (or name the namespace and deployment)"
    )


def _without_selected_pods(candidates: list[Obj], objects: list[Obj]) -> list[Obj]:
    """Drop ownerless Pods a candidate Deployment's selector claims (adopted by nothing yet,
    but the Deployment's all the same)."""
    selectors = [
        (obj.get("spec") or {}).get("selector") or {}
        for obj in candidates
        if kind_of(obj) == "Deployment"
    ]

    def claimed(obj: Obj) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return any(selector_matches(labels, selector) for selector in selectors)

    return [obj for obj in candidates if kind_of(obj) != "Pod" or not claimed(obj)]


def _pod_owned(pod: Obj, kind: str, names: set[str]) -> bool:
    return bool(owner_names(pod, kind) & names)


def workload_members(objects: list[Obj], kind: str, name: str) -> WorkloadMembers:
    """Return the workload `kind`/`name` and everything it owns among `objects` (one
    namespace). A Deployment that is absent still claims its ReplicaSets and their pods."""
    by_kind: dict[str, list[Obj]] = {}
    for obj in objects:
        by_kind.setdefault(kind_of(obj), []).append(obj)
    top = next((obj for obj in by_kind.get(kind, []) if name_of(obj) == name), None)
    members = WorkloadMembers(kind, name, top)
    pods = by_kind.get("Pod", [])
    if kind == "Deployment":
        members.replicasets = [
            rs for rs in by_kind.get("ReplicaSet", []) if name in owner_names(rs, "Deployment")
        ]
        rs_names = {name_of(rs) for rs in members.replicasets}
        selector = ((top or {}).get("spec") or {}).get("selector") or {}
        members.pods = [
            pod
            for pod in pods
            if _pod_owned(pod, "ReplicaSet", rs_names)
            or (
                not owner_names(pod, "ReplicaSet")
                and selector_matches(pod.get("metadata", {}).get("labels") or {}, selector)
            )
        ]
    elif kind in {"StatefulSet", "DaemonSet"}:
        members.controller_revisions = [
            revision
            for revision in by_kind.get("ControllerRevision", [])
            if name in owner_names(revision, kind)
        ]
        members.pods = [pod for pod in pods if _pod_owned(pod, kind, {name})]
    elif kind in {"Job", "CronJob"}:
        members.jobs = (
            [top]
            if kind == "Job" and top is not None
            else [job for job in by_kind.get("Job", []) if name in owner_names(job, "CronJob")]
        )
        members.pods = [
            pod for pod in pods if _pod_owned(pod, "Job", set(map(name_of, members.jobs)))
        ]
    elif kind == "Pod" and top is not None:
        members.pods = [top]
    return members


def claimed_volumes(members: WorkloadMembers) -> set[str]:
    """The PersistentVolumeClaim names the workload's pods (and pod templates) mount."""
    claims: set[str] = set()
    for obj in [members.top or {}, *members.pods]:
        for spec in pod_specs(obj):
            for volume in spec.get("volumes") or []:
                claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
                if claim:
                    claims.add(str(claim))
    return claims


def statefulset_claim(members: WorkloadMembers, claim: str) -> bool:
    """True when `claim` is one a StatefulSet's volumeClaimTemplates make
    (`<template>-<statefulset>-<ordinal>`)."""
    if members.kind != "StatefulSet" or members.top is None:
        return False
    for template in (members.top.get("spec") or {}).get("volumeClaimTemplates") or []:
        prefix = f"{name_of(template)}-{members.name}-"
        if claim.startswith(prefix) and claim[len(prefix) :].isdigit():
            return True
    return False
