"""The Kubernetes activities: read a workload's context, change it, watch it roll out and verify it.

Built once in the worker around one ApiClient (from KUBECONFIG or the in-cluster service
account); the client is blocking, so these are sync activities run on the worker's thread pool.
"""

from __future__ import annotations

import kubernetes

from selfheal import snapshots
from selfheal.activities.kubernetes.client import Clusters
from selfheal.activities.kubernetes.context import collect_workload_objects
from selfheal.activities.kubernetes.health import verify_window
from selfheal.activities.kubernetes.remediation import apply_remediation
from selfheal.activities.kubernetes.rollout import wait_for_rollout
from selfheal.contracts.kubernetes import (
    APPLY_REMEDIATION,
    GATHER_CONTEXT,
    VERIFY_HEALTH,
    WAIT_ROLLOUT,
    ClusterContext,
    ContextRequest,
    HealthCheckRequest,
    HealthReport,
    RemediationRequest,
    RemediationResult,
    RolloutRequest,
    RolloutResult,
)
from selfheal.contracts.spec import implements
from selfheal.settings import Settings

__all__ = ["KubernetesActivities"]


class KubernetesActivities:
    """The cluster-facing activities, sharing one lazily built ApiClient per cluster.

    Every request names its cluster; `api_client`, when given, serves the default one.
    """

    def __init__(
        self,
        settings: Settings,
        api_client: kubernetes.client.ApiClient | None = None,
        poll_interval: float = 2.0,
    ) -> None:
        self._settings = settings
        self._clusters = Clusters(settings, api_client)
        self._poll = poll_interval

    @property
    def clusters(self) -> Clusters:
        """The connections, one per cluster, that the investigation's live reads share."""
        return self._clusters

    @implements(GATHER_CONTEXT)
    def gather_context(self, request: ContextRequest) -> ClusterContext:
        """Return the workload's objects, events and log tails, secrets removed and size
        bounded, for a workload of any kind (`request.kind`)."""
        found = collect_workload_objects(
            self._clusters[request.cluster],
            request.namespace,
            request.workload,
            request.log_tail_lines,
            kind=request.kind,
        )
        context = snapshots.context_from_objects(
            found.objects,
            found.logs,
            found.previous_logs,
            namespace=request.namespace,
            workload=request.workload,
            max_bytes=self._settings.context_max_bytes,
            kind=request.kind,
        )
        context.cluster = request.cluster or self._settings.cluster
        return context

    @implements(APPLY_REMEDIATION)
    def apply_remediation(self, request: RemediationRequest) -> RemediationResult:
        """Apply one action to a Deployment within the guardrails, at most once per incident."""
        cluster = self._clusters[request.cluster]
        cluster.connect()  # an unconfigured cluster is reported before any guardrail
        return apply_remediation(cluster, self._settings, request)

    @implements(WAIT_ROLLOUT)
    def wait_rollout(self, request: RolloutRequest) -> RolloutResult:
        """Return when the rollout completed (with the expected template), failed or timed out."""
        return wait_for_rollout(self._clusters[request.cluster], request, self._poll)

    @implements(VERIFY_HEALTH)
    def verify_health(self, request: HealthCheckRequest) -> HealthReport:
        """Return whether the workload (Deployment, StatefulSet or DaemonSet) stayed rolled
        out, ready and restart-free."""
        return verify_window(self._clusters[request.cluster], request, self._poll)
