"""A Deployment with its ReplicaSets and Pods, as the dicts `kubectl get -o yaml` shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubernetes.client.exceptions import ApiException
from temporalio.exceptions import ApplicationError

from selfheal.activities.kubernetes.client import (
    REQUEST_TIMEOUT,
    ClusterConnection,
    is_not_found,
    kube_errors,
)
from selfheal.kube_objects import (
    Obj,
    controller_uid,
    label_selector,
    name_of,
    revision_of,
    uid_of,
)


def as_object(conn: ClusterConnection, model: Any, api_version: str, kind: str) -> Obj:
    """Return a client model as the API's JSON dict, with the apiVersion and kind lists omit."""
    data: Obj = conn.api_client.sanitize_for_serialization(model)
    data.pop("apiVersion", None)
    data.pop("kind", None)
    return {"apiVersion": api_version, "kind": kind, **data}


@dataclass
class Workload:
    """A Deployment and what it controls: ReplicaSets (oldest revision first) and their Pods."""

    deployment: Obj
    replicasets: list[Obj] = field(default_factory=list)
    pods: list[Obj] = field(default_factory=list)

    @property
    def name(self) -> str:
        return name_of(self.deployment)

    @property
    def namespace(self) -> str:
        return str(self.deployment.get("metadata", {}).get("namespace", ""))

    @property
    def revision(self) -> int | None:
        return revision_of(self.deployment)

    def replicaset_at(self, revision: int) -> Obj | None:
        """Return the ReplicaSet that holds rollout revision `revision`, if it still exists."""
        return next((rs for rs in self.replicasets if revision_of(rs) == revision), None)

    def current_pods(self) -> list[Obj]:
        """Return the pods of the current revision's ReplicaSet (all pods if it is unknown)."""
        current = self.replicaset_at(self.revision) if self.revision else None
        if current is None:
            return list(self.pods)
        return [pod for pod in self.pods if controller_uid(pod) == uid_of(current)]


def read_deployment(conn: ClusterConnection, namespace: str, name: str) -> Obj:
    """Return the Deployment as a dict; non-retryable DeploymentNotFound if it is absent."""
    with kube_errors(f"reading deployment {namespace}/{name}"):
        try:
            model = conn.apps().read_namespaced_deployment(
                name, namespace, _request_timeout=REQUEST_TIMEOUT
            )
        except Exception as exc:
            if is_not_found(exc):
                raise ApplicationError(
                    f"deployment {name} not found in namespace {namespace}",
                    type="DeploymentNotFound",
                    non_retryable=True,
                ) from exc
            raise
    return as_object(conn, model, "apps/v1", "Deployment")


def read_workload(conn: ClusterConnection, namespace: str, name: str) -> Workload:
    """Return the Deployment with the ReplicaSets it owns and the Pods they own."""
    deployment = read_deployment(conn, namespace, name)
    selector = label_selector(deployment.get("spec", {}).get("selector"))
    with kube_errors(f"listing replicasets and pods of deployment {namespace}/{name}"):
        rs_list = conn.apps().list_namespaced_replica_set(
            namespace, label_selector=selector, _request_timeout=REQUEST_TIMEOUT
        )
        pod_list = conn.core().list_namespaced_pod(
            namespace, label_selector=selector, _request_timeout=REQUEST_TIMEOUT
        )
    replicasets = [
        rs
        for rs in (as_object(conn, item, "apps/v1", "ReplicaSet") for item in rs_list.items)
        if controller_uid(rs) == uid_of(deployment)
    ]
    replicasets.sort(key=lambda rs: revision_of(rs) or 0)
    owned = {uid_of(rs) for rs in replicasets}
    pods = [
        pod
        for pod in (as_object(conn, item, "v1", "Pod") for item in pod_list.items)
        if controller_uid(pod) in owned or controller_uid(pod) is None
    ]
    pods.sort(key=name_of)
    return Workload(deployment, replicasets, pods)


def read_existing(
    conn: ClusterConnection,
    namespace: str,
    names: list[str],
    kind: str,
    read: Callable[[str], Any],
) -> list[Obj]:
    """Return the named core/v1 objects of `kind` that exist, read one by one with `read`;
    a missing one is left out."""
    found = []
    for name in names:
        with kube_errors(f"reading {kind.lower()} {namespace}/{name}"):
            try:
                model = read(name)
            except ApiException as exc:
                if is_not_found(exc):
                    continue
                raise
        found.append(as_object(conn, model, "v1", kind))
    return found
