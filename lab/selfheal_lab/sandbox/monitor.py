"""The sandbox's Prometheus + Alertmanager: watches workloads and posts Alertmanager webhooks.

It reads the cluster through the official client like kube-state-metrics would, derives the
kube-prometheus alerts a real stack would fire (one per Deployment, the most specific),
groups them per namespace into one Alertmanager v4 webhook, repeats firing alerts on an
interval, and sends `resolved` once the workload is healthy again.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from kubernetes import client as k8s

log = structlog.get_logger(__name__)

AlertKey = tuple[str, str, str]
"""(namespace, deployment, alert name): one alert the monitor follows."""

CHAOS_LABEL = "selfheal.dev/chaos"

WAITING_REASONS = {
    "ErrImagePull",
    "ImagePullBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "InvalidImageName",
}


@dataclass(frozen=True)
class FiringAlert:
    """One alert the monitor holds for one Deployment."""

    name: str
    namespace: str
    deployment: str
    severity: str
    summary: str
    labels: dict[str, str] = field(default_factory=dict)
    since: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.namespace, self.deployment, self.name)


def _container_alerts(namespace: str, deployment: str, pod: dict[str, Any]) -> list[FiringAlert]:
    """The alerts a pod's containers raise: OOMKilled, crash looping, stuck waiting."""
    found = []
    pod_name = pod["metadata"]["name"]
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        last = (status.get("lastState") or {}).get("terminated") or {}
        waiting = (status.get("state") or {}).get("waiting") or {}
        where = f"Container {status['name']} of pod {namespace}/{pod_name}"
        labels = {"pod": pod_name, "container": status["name"]}
        if last.get("reason") == "OOMKilled":
            found.append(
                FiringAlert(
                    "KubeContainerOOMKilled",
                    namespace,
                    deployment,
                    "critical",
                    f"{where}: OOMKilled (exit code 137)",
                    labels,
                )
            )
        if waiting.get("reason") == "CrashLoopBackOff":
            found.append(
                FiringAlert(
                    "KubePodCrashLooping",
                    namespace,
                    deployment,
                    "critical",
                    f"{where}: restarts {status.get('restartCount')}",
                    labels,
                )
            )
        if waiting.get("reason") in WAITING_REASONS:
            found.append(
                FiringAlert(
                    "KubeContainerWaiting",
                    namespace,
                    deployment,
                    "warning",
                    f"{where}: {waiting['reason']}",
                    labels,
                )
            )
    return found


def alerts_for(deployment: dict[str, Any], pods: list[dict[str, Any]]) -> list[FiringAlert]:
    """Every alert a Deployment raises now, one per alert name, as kube-prometheus fires them
    side by side for one fault (an OOM is OOMKilled, crash looping, not ready and short of
    replicas at once); empty when it is healthy."""
    meta, spec, status = deployment["metadata"], deployment["spec"], deployment.get("status") or {}
    namespace, name = meta["namespace"], meta["name"]
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    owned = [
        p
        for p in pods
        if all(
            ((p.get("metadata") or {}).get("labels") or {}).get(k) == v for k, v in selector.items()
        )
    ]
    found: dict[str, FiringAlert] = {}
    for pod in owned:
        for alert in _container_alerts(namespace, name, pod):
            found.setdefault(alert.name, alert)
    for pod in owned:
        phase = (pod.get("status") or {}).get("phase")
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (pod.get("status") or {}).get("conditions") or []
        )
        if phase in ("Pending", "Running") and not ready:
            pod_name = pod["metadata"]["name"]
            found.setdefault(
                "KubePodNotReady",
                FiringAlert(
                    name="KubePodNotReady",
                    namespace=namespace,
                    deployment=name,
                    severity="warning",
                    summary=f"Pod {namespace}/{pod_name} has been in a non-ready state ({phase})",
                    labels={"pod": pod_name},
                ),
            )
    desired = spec.get("replicas", 1)
    available = status.get("availableReplicas") or 0
    if available < desired:
        found["KubeDeploymentReplicasMismatch"] = FiringAlert(
            name="KubeDeploymentReplicasMismatch",
            namespace=namespace,
            deployment=name,
            severity="warning",
            summary=f"Deployment {namespace}/{name} has {available}/{desired} replicas available",
        )
    progressing: dict[str, Any] = next(
        (c for c in status.get("conditions") or [] if c.get("type") == "Progressing"), {}
    )
    if progressing.get("status") == "False":
        # kube-prometheus reads kube_deployment_status_condition{condition="Progressing",
        # status="false"}: the rollout passed its progressDeadlineSeconds.
        found["KubeDeploymentRolloutStuck"] = FiringAlert(
            name="KubeDeploymentRolloutStuck",
            namespace=namespace,
            deployment=name,
            severity="warning",
            summary=f"Rollout of deployment {namespace}/{name} is not progressing",
        )
    return list(found.values())


def _fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager's fingerprint: a stable hash of the label set."""
    canonical = ",".join(f"{key}={labels[key]}" for key in sorted(labels))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class AlertMonitor:
    """Polls the cluster and posts Alertmanager webhooks to selfheal."""

    def __init__(
        self,
        api_client: k8s.ApiClient,
        webhook_url: str,
        token: str | None,
        cluster: str = "sandbox",
        interval: float = 2.0,
        repeat_interval: float = 30.0,
        pending_for: float = 4.0,
        resolve_after: float = 3.0,
    ) -> None:
        self._api = api_client
        self._core = k8s.CoreV1Api(api_client)
        self._apps = k8s.AppsV1Api(api_client)
        self._url = webhook_url.rstrip("/") + "/webhooks/alertmanager"
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._cluster = cluster
        self._interval = interval
        self._repeat = repeat_interval
        self._pending_for = pending_for
        self._resolve_after = resolve_after
        self._pending: dict[AlertKey, float] = {}
        self._firing: dict[AlertKey, FiringAlert] = {}
        self._absent_since: dict[AlertKey, float] = {}
        self._last_sent: dict[AlertKey, float] = {}
        self._unsent_resolved: dict[AlertKey, FiringAlert] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent: list[dict[str, Any]] = []

    def start(self) -> None:
        """Watch in a background thread."""
        self._thread = threading.Thread(target=self._run, name="alert-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.evaluate_once()
            except Exception as failure:
                log.warning("monitor round failed", error=str(failure))

    def _watched_namespaces(self) -> list[str]:
        selector = f"{CHAOS_LABEL}=enabled"
        namespaces = self._core.list_namespace(label_selector=selector).items
        return [str(ns.metadata.name) for ns in namespaces if ns.metadata]

    def absent(self) -> set[AlertKey]:
        """Firing alerts the last round did not see (resolved once away `resolve_after`)."""
        return set(self._absent_since)

    def evaluate_once(self, now: float | None = None) -> list[dict[str, Any]]:
        """Evaluate every watched Deployment once; post what is due; return what was posted."""
        now = time.monotonic() if now is None else now
        current: dict[AlertKey, FiringAlert] = {}
        for namespace in self._watched_namespaces():
            deployments = self._api.sanitize_for_serialization(
                self._apps.list_namespaced_deployment(namespace).items
            )
            pods = self._api.sanitize_for_serialization(
                self._core.list_namespaced_pod(namespace).items
            )
            for deployment in deployments:
                for alert in alerts_for(deployment, pods):
                    current[alert.key] = alert
        due: list[tuple[FiringAlert, str]] = []
        for key, alert in current.items():
            first_seen = self._pending.setdefault(key, now)
            if key not in self._firing and now - first_seen < self._pending_for:
                continue  # like a rule's `for:` clause
            # An alert keeps the labels it first fired with, so its fingerprint stays put.
            self._absent_since.pop(key, None)
            previous = self._firing.get(key)
            kept = previous or alert
            self._firing[key] = kept
            if previous is None or now - self._last_sent[key] >= self._repeat:
                due.append((kept, "firing"))
                self._last_sent[key] = now
        for key in list(self._firing):
            if key in current:
                continue
            # Like a rule over a range (max_over_time): a moment's absence resolves nothing.
            gone_since = self._absent_since.setdefault(key, now)
            if now - gone_since >= self._resolve_after:
                due.append((self._firing.pop(key), "resolved"))
                self._last_sent.pop(key, None)
                self._absent_since.pop(key, None)
                self._pending.pop(key, None)
            elif now - self._last_sent[key] >= self._repeat:
                # A crash loop's pod is Running between back-offs: still firing, repeated.
                due.append((self._firing[key], "firing"))
                self._last_sent[key] = now
        for key, alert in list(self._unsent_resolved.items()):
            del self._unsent_resolved[key]
            if key not in self._firing:
                due.append((alert, "resolved"))
        for key in list(self._pending):
            if key not in current and key not in self._firing:
                del self._pending[key]
        return self._post(due)

    def _post(self, due: list[tuple[FiringAlert, str]]) -> list[dict[str, Any]]:
        posted: list[dict[str, Any]] = []
        by_namespace: dict[str, list[tuple[FiringAlert, str]]] = {}
        for alert, status in due:
            by_namespace.setdefault(alert.namespace, []).append((alert, status))
        for namespace, group in by_namespace.items():
            payload = self._payload(namespace, group)
            try:
                response = httpx.post(self._url, json=payload, headers=self._headers, timeout=10)
                log.info(
                    "alerts posted",
                    namespace=namespace,
                    count=len(group),
                    status=response.status_code,
                )
            except httpx.HTTPError as failure:
                log.warning("webhook unreachable; will repeat", error=str(failure))
                self._send_again(group)
                continue
            if response.status_code >= 500:
                # Alertmanager retries a 5xx (selfheal answers 503 while Temporal is down).
                self._send_again(group)
                continue
            posted.append(payload)
            self.sent.append(payload)
        return posted

    def _send_again(self, group: list[tuple[FiringAlert, str]]) -> None:
        """Post an undelivered group again on the next round, resolved alerts included."""
        for alert, status in group:
            if status == "firing" and alert.key in self._firing:
                self._last_sent[alert.key] = float("-inf")
            elif status == "resolved":
                self._unsent_resolved.setdefault(alert.key, alert)

    def _payload(self, namespace: str, group: list[tuple[FiringAlert, str]]) -> dict[str, Any]:
        """An Alertmanager webhook v4 body for one namespace group."""
        alerts = []
        for alert, status in group:
            labels = {
                "alertname": alert.name,
                "namespace": alert.namespace,
                "deployment": alert.deployment,
                "severity": alert.severity,
                "cluster": self._cluster,
                **alert.labels,
            }
            alerts.append(
                {
                    "status": status,
                    "labels": labels,
                    "annotations": {"summary": alert.summary},
                    "startsAt": alert.since.isoformat(),
                    "endsAt": datetime.now(UTC).isoformat()
                    if status == "resolved"
                    else "0001-01-01T00:00:00Z",
                    "generatorURL": "http://sandbox-prometheus/graph",
                    "fingerprint": _fingerprint(labels),
                }
            )
        firing = any(status == "firing" for _, status in group)
        return {
            "version": "4",
            "groupKey": f'{{}}:{{namespace="{namespace}"}}',
            "truncatedAlerts": 0,
            "status": "firing" if firing else "resolved",
            "receiver": "selfheal",
            "groupLabels": {"namespace": namespace},
            "commonLabels": {"namespace": namespace, "cluster": self._cluster},
            "commonAnnotations": {},
            "externalURL": "http://sandbox-alertmanager",
            "alerts": alerts,
        }
