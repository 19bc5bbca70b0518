"""The workloads a direct change may reach, and how each is patched, scaled and numbered.

A Deployment's revisions live in its ReplicaSets' annotations; a StatefulSet's and a
DaemonSet's in their ControllerRevisions (the newest revision is the template in force,
since the controllers renumber an older template's revision when it is used again); a
CronJob keeps none. A Job or a bare Pod is never changed in place: a finished Job's template
cannot change and a Pod's spec is immutable, so their incidents go to a person.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from temporalio.exceptions import ApplicationError

from selfheal.activities.kubernetes.client import REQUEST_TIMEOUT, ClusterConnection, kube_errors
from selfheal.activities.kubernetes.members import read_members, read_top
from selfheal.kube_objects import Obj, revision_of
from selfheal.model.diagnosis import RemediationAction

PATCHABLE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob")
"""Workload kinds a direct change may patch."""

WITH_ROLLOUT = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
"""Kinds whose pods are replaced by a rolling update when their template changes."""

SCALABLE = frozenset({"Deployment", "StatefulSet"})
"""Kinds with a scale subresource."""

WITH_REVISIONS = frozenset({"StatefulSet", "DaemonSet"})
"""Kinds whose template history is kept in ControllerRevisions."""


@dataclass(frozen=True)
class Target:
    """The one workload an action changes."""

    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, action: RemediationAction) -> Target:
        """The action's workload; a non-retryable `UnsupportedWorkloadKind` for a Job or Pod."""
        if action.workload_kind not in PATCHABLE_KINDS:
            raise ApplicationError(
                f"{action.workload_kind} {action.namespace}/{action.deployment} cannot be "
                "changed in place (a Job's template and a Pod's spec are immutable): "
                "a person must act",
                type="UnsupportedWorkloadKind",
                non_retryable=True,
            )
        return cls(action.workload_kind, action.namespace, action.deployment)

    def __str__(self) -> str:
        return f"{self.kind.lower()} {self.namespace}/{self.name}"

    @property
    def template_path(self) -> str:
        """The JSON pointer of the pod template inside the object."""
        return "/spec/jobTemplate/spec/template" if self.kind == "CronJob" else "/spec/template"

    def template_of(self, obj: Obj) -> Any:
        """The pod template the object runs."""
        spec = obj.get("spec") or {}
        if self.kind == "CronJob":
            return ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
        return spec.get("template") or {}

    def read(self, conn: ClusterConnection) -> Obj:
        """The workload as it is now; `<Kind>NotFound` (non-retryable) when it is gone."""
        return read_top(conn, self.namespace, self.kind, self.name)

    def patch(self, conn: ClusterConnection, body: Any, content_type: str) -> None:
        """Send one patch of the workload."""
        # Each call is spelt out (not looked up in a table) so the RBAC check, which reads
        # the API calls from this source, sees every one of them.
        name, namespace, timeout = self.name, self.namespace, REQUEST_TIMEOUT
        with kube_errors(f"patching {self}"):
            if self.kind == "StatefulSet":
                conn.apps().patch_namespaced_stateful_set(
                    name, namespace, body, _content_type=content_type, _request_timeout=timeout
                )
            elif self.kind == "DaemonSet":
                conn.apps().patch_namespaced_daemon_set(
                    name, namespace, body, _content_type=content_type, _request_timeout=timeout
                )
            elif self.kind == "CronJob":
                conn.batch().patch_namespaced_cron_job(
                    name, namespace, body, _content_type=content_type, _request_timeout=timeout
                )
            else:
                conn.apps().patch_namespaced_deployment(
                    name, namespace, body, _content_type=content_type, _request_timeout=timeout
                )

    def scale(self, conn: ClusterConnection, replicas: int, content_type: str) -> None:
        """Set the replica count through the scale subresource."""
        body = {"spec": {"replicas": replicas}}
        name, namespace, timeout = self.name, self.namespace, REQUEST_TIMEOUT
        with kube_errors(f"scaling {self}"):
            if self.kind == "StatefulSet":
                conn.apps().patch_namespaced_stateful_set_scale(
                    name, namespace, body, _content_type=content_type, _request_timeout=timeout
                )
            else:
                conn.apps().patch_namespaced_deployment_scale(
                    name, namespace, body, _content_type=content_type, _request_timeout=timeout
                )

    def history(self, conn: ClusterConnection) -> dict[int, Any]:
        """Every revision on record, by number, with the pod template it ran."""
        if self.kind == "Deployment":
            members = read_members(conn, self.namespace, self.kind, self.name)
            return {
                number: _without_hash(rs.get("spec", {}).get("template", {}))
                for rs in members.replicasets
                if (number := revision_of(rs)) is not None
            }
        if self.kind in WITH_REVISIONS:
            members = read_members(conn, self.namespace, self.kind, self.name)
            return {
                int(item.get("revision") or 0): _revision_template(item)
                for item in members.controller_revisions
            }
        return {}

    def revision(self, conn: ClusterConnection, obj: Obj) -> int | None:
        """The number of the revision in force (None for a kind that keeps no history)."""
        if self.kind == "Deployment":
            return revision_of(obj)
        return self.revision_in(obj, self.history(conn))

    def revision_in(self, obj: Obj, history: dict[int, Any]) -> int | None:
        """The revision in force, given the history already read."""
        if self.kind == "Deployment":
            return revision_of(obj)
        return max(history, default=None)


def _without_hash(template: Any) -> Any:
    template = copy.deepcopy(template)
    (template.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
    return template


def _revision_template(revision: Obj) -> Any:
    """A ControllerRevision's pod template: its `data` is the strategic-merge patch
    `{"spec": {"template": {..., "$patch": "replace"}}}` the controller would apply."""
    template = copy.deepcopy(((revision.get("data") or {}).get("spec") or {}).get("template"))
    if isinstance(template, dict):
        template.pop("$patch", None)
        (template.get("metadata") or {}).get("labels", {}).pop("controller-revision-hash", None)
    return template or {}
