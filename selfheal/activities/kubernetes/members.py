"""A workload of any kind and what it owns, read live: the top-level object, the objects it
owns by ownerReferences (a Deployment's ReplicaSets, a StatefulSet's or DaemonSet's
ControllerRevisions, a CronJob's Jobs), their pods, and the claims those pods mount.

Lists are narrowed by the workload's own label selector where it has one; ownership is then
decided by `workload_tree`, exactly as for a snapshot.
"""

from __future__ import annotations

from kubernetes.client.exceptions import ApiException
from temporalio.exceptions import ApplicationError

from selfheal.activities.kubernetes.client import (
    REQUEST_TIMEOUT,
    ClusterConnection,
    is_not_found,
    kube_errors,
)
from selfheal.activities.kubernetes.reads import KINDS
from selfheal.activities.kubernetes.workload import (
    as_object,
    read_deployment,
    read_existing,
    read_workload,
)
from selfheal.kube_objects import Obj, label_selector, name_of
from selfheal.workload_tree import WorkloadMembers, claimed_volumes, workload_members

TOP_KINDS = frozenset({"StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"})
"""Workload kinds read through reads.KINDS (a Deployment has its own reader)."""


JOBS_WITH_PODS = 3
"""A CronJob's newest Jobs whose pods are read: the rules look at the newest one's, and
older runs show whether it failed before."""

MAX_CLAIMS = 20
"""PersistentVolumeClaims read at most (a StatefulSet of hundreds has as many)."""


def read_members(conn: ClusterConnection, namespace: str, kind: str, name: str) -> WorkloadMembers:
    """Return the workload `kind`/`name` with what it owns and their pods.

    Raises a non-retryable `<Kind>NotFound` ApplicationError when the workload is absent.
    """
    if kind == "Deployment":
        found = read_workload(conn, namespace, name)
        return workload_members(
            [found.deployment, *found.replicasets, *found.pods], "Deployment", name
        )
    top = read_top(conn, namespace, kind, name)
    objects = [top]
    selector = label_selector((top.get("spec") or {}).get("selector"))
    where = f"{kind.lower()} {namespace}/{name}"
    if kind in {"StatefulSet", "DaemonSet"}:
        with kube_errors(f"listing controllerrevisions and pods of {where}"):
            revisions = conn.apps().list_namespaced_controller_revision(
                namespace, label_selector=selector, _request_timeout=REQUEST_TIMEOUT
            )
        objects += [
            as_object(conn, item, "apps/v1", "ControllerRevision") for item in revisions.items
        ]
        objects += _pods(conn, namespace, selector, where)
    elif kind == "Job":
        objects += _pods(conn, namespace, selector, where)
    elif kind == "CronJob":
        # A CronJob has no selector: its Jobs carry only the labels of its jobTemplate, so
        # they are listed whole and kept by ownerReference.
        with kube_errors(f"listing jobs of {where}"):
            listed = conn.batch().list_namespaced_job(namespace, _request_timeout=REQUEST_TIMEOUT)
        jobs = [as_object(conn, item, "batch/v1", "Job") for item in listed.items]
        owned = workload_members([top, *jobs], "CronJob", name).jobs
        objects += owned
        for job in sorted(owned, key=_created)[-JOBS_WITH_PODS:]:
            job_selector = label_selector((job.get("spec") or {}).get("selector"))
            objects += _pods(conn, namespace, job_selector, f"job {namespace}/{name_of(job)}")
    return workload_members(objects, kind, name)


def read_claims(conn: ClusterConnection, namespace: str, members: WorkloadMembers) -> list[Obj]:
    """Return the PersistentVolumeClaims the workload's pods mount, and those a StatefulSet's
    volumeClaimTemplates make for each of its ordinals; a missing claim is left out (the
    scheduler's event names it)."""
    names = sorted(claimed_volumes(members) | _statefulset_claims(members))[:MAX_CLAIMS]
    return read_existing(
        conn,
        namespace,
        names,
        "PersistentVolumeClaim",
        lambda claim: conn.core().read_namespaced_persistent_volume_claim(
            claim, namespace, _request_timeout=REQUEST_TIMEOUT
        ),
    )


def read_namespace_limits(conn: ClusterConnection, namespace: str) -> list[Obj]:
    """Return the namespace's ResourceQuotas and LimitRanges: what admission holds pods to.

    A Role bound before these reads were granted answers 403: the context goes without
    them (the FailedCreate events quote the quota anyway) rather than the incident failing.
    """
    with kube_errors(f"listing resourcequotas and limitranges in namespace {namespace}"):
        try:
            quotas = conn.core().list_namespaced_resource_quota(
                namespace, _request_timeout=REQUEST_TIMEOUT
            )
            ranges = conn.core().list_namespaced_limit_range(
                namespace, _request_timeout=REQUEST_TIMEOUT
            )
        except ApiException as exc:
            if exc.status == 403:
                return []
            raise
    return [as_object(conn, item, "v1", "ResourceQuota") for item in quotas.items] + [
        as_object(conn, item, "v1", "LimitRange") for item in ranges.items
    ]


def read_top(conn: ClusterConnection, namespace: str, kind: str, name: str) -> Obj:
    """Return the workload `kind`/`name` itself; a non-retryable `<Kind>NotFound`
    ApplicationError when it is absent, `UnknownKind` for a kind selfheal does not read."""
    if kind == "Deployment":
        return read_deployment(conn, namespace, name)
    if kind not in TOP_KINDS:
        raise ApplicationError(
            f"cannot read a workload of kind {kind}", type="UnknownKind", non_retryable=True
        )
    reading = KINDS[kind]
    with kube_errors(f"reading {kind.lower()} {namespace}/{name}"):
        try:
            model = reading.read(conn, namespace, name)
        except ApiException as exc:
            if is_not_found(exc):
                raise ApplicationError(
                    f"{kind.lower()} {name} not found in namespace {namespace}",
                    type=f"{kind}NotFound",
                    non_retryable=True,
                ) from exc
            raise
    return as_object(conn, model, reading.api_version, kind)


def _pods(conn: ClusterConnection, namespace: str, selector: str, where: str) -> list[Obj]:
    if not selector:
        return []  # an empty selector would list every pod of the namespace
    with kube_errors(f"listing pods of {where}"):
        listed = conn.core().list_namespaced_pod(
            namespace, label_selector=selector, _request_timeout=REQUEST_TIMEOUT
        )
    return [as_object(conn, item, "v1", "Pod") for item in listed.items]


def _statefulset_claims(members: WorkloadMembers) -> set[str]:
    """`<template>-<statefulset>-<ordinal>` for every ordinal the StatefulSet asks for."""
    if members.kind != "StatefulSet" or members.top is None:
        return set()
    spec = members.top.get("spec") or {}
    replicas = int(spec.get("replicas", 1) or 0)
    start = int((spec.get("ordinals") or {}).get("start") or 0)
    return {
        f"{name_of(template)}-{members.name}-{ordinal}"
        for template in spec.get("volumeClaimTemplates") or []
        for ordinal in range(start, start + min(replicas, MAX_CLAIMS))
    }


def _created(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("creationTimestamp") or "")
