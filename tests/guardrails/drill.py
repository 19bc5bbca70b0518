"""A drill ground on a running stack: Deployments broken on purpose, alerts through the webhook,
and the sandbox cluster's own count of every mutating request.

The drill namespace is not watched by the sandbox's alert monitor, so the only incidents are
the ones a test raises, and the only changes after the test's own setup are selfheal's.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import httpx
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from temporalio.client import Client

from selfheal.client.incidents import incident_status
from selfheal.model.incident import IncidentState, IncidentStatus
from selfheal_lab.sandbox.control import MUTATING
from tests.e2e.stack import RunningStack

NAMESPACE = "drill"
IMAGE = "registry.sandbox.local/demo/checkout:1.4.2"
"""A sandbox image whose working set is about 180Mi: a 128Mi limit is OOMKilled, 256Mi runs."""

BROKEN_MEMORY = "128Mi"
HEALED_MEMORY = "256Mi"

DRILL_SETTINGS = {
    "SELFHEAL_NAMESPACES": NAMESPACE,
    "SELFHEAL_MODE": "direct",
    "SELFHEAL_ANALYZER": "rules",
}


def patch_of(name: str) -> str:
    """The sandbox's request-count key of a PATCH of a drill Deployment."""
    return f"PATCH /apis/apps/v1/namespaces/{NAMESPACE}/deployments/{name}"


def _deployment(name: str, memory_limit: str) -> dict[str, Any]:
    memory = {"memory": memory_limit}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": IMAGE,
                            "resources": {"requests": memory, "limits": memory},
                        }
                    ]
                },
            },
        },
    }


def _oom_killed(pod: dict[str, Any]) -> bool:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return any(
        ((status.get("lastState") or {}).get("terminated") or {}).get("reason") == "OOMKilled"
        for status in statuses
    )


class Drill:
    """Breaks drill Deployments, raises their alerts, and reads what reached the cluster."""

    def __init__(self, running: RunningStack) -> None:
        self.running = running
        self.api = running.kubernetes()
        self.core = k8s.CoreV1Api(self.api)
        self.apps = k8s.AppsV1Api(self.api)
        self.kube_url = running.info.kubernetes["url"]

    def create_namespace(self) -> None:
        """Create the drill namespace unless it exists (no chaos label: the monitor ignores it)."""
        try:
            self.core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=NAMESPACE)))
        except ApiException as exc:
            if exc.status != 409:
                raise

    def deploy(self, names: Iterable[str], memory_limit: str = BROKEN_MEMORY) -> None:
        """Create one-replica Deployments; the default memory limit is below what they need."""
        for name in names:
            self.apps.create_namespaced_deployment(
                NAMESPACE,
                _deployment(name, memory_limit),  # type: ignore[arg-type]  # dicts are accepted
            )

    def wait_until_available(self, name: str, timeout: float = 60) -> None:
        """Block until the Deployment's replica is available."""
        deadline = time.monotonic() + timeout
        while not self._available(name):
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} not available within {timeout}s")
            time.sleep(0.2)

    def _available(self, name: str) -> bool:
        status = self.apps.read_namespaced_deployment(name, NAMESPACE).status
        return bool(status and status.available_replicas)

    def break_again(self, name: str) -> None:
        """Put the too-small memory limit back, as a bad deploy would."""
        memory = {"memory": BROKEN_MEMORY}
        container = {"name": "app", "resources": {"requests": memory, "limits": memory}}
        self.apps.patch_namespaced_deployment(
            name, NAMESPACE, {"spec": {"template": {"spec": {"containers": [container]}}}}
        )

    def memory_limit(self, name: str) -> str:
        """The Deployment's current memory limit."""
        deployment = self.api.sanitize_for_serialization(
            self.apps.read_namespaced_deployment(name, NAMESPACE)
        )
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        return str(container["resources"]["limits"]["memory"])

    def wait_until_oom_killed(self, names: Iterable[str], timeout: float = 60) -> None:
        """Block until a current pod of every named Deployment has been OOMKilled."""
        wanted = set(names)
        deadline = time.monotonic() + timeout
        while True:
            pods = self.api.sanitize_for_serialization(
                self.core.list_namespaced_pod(NAMESPACE).items
            )
            broken = {
                pod["metadata"]["labels"]["app"]
                for pod in pods
                if _oom_killed(pod) and self._runs_broken_limit(pod)
            }
            if wanted <= broken:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"not OOMKilled within {timeout}s: {sorted(wanted - broken)}")
            time.sleep(0.2)

    @staticmethod
    def _runs_broken_limit(pod: dict[str, Any]) -> bool:
        container = pod["spec"]["containers"][0]
        return bool(container.get("resources", {}).get("limits", {}).get("memory") == BROKEN_MEMORY)

    def raise_alerts(
        self,
        alerts: Iterable[tuple[str, str]],
        namespace: str = NAMESPACE,
        labels: dict[str, str] | None = None,
        status: str = "firing",
    ) -> list[str]:
        """Post one Alertmanager webhook of (alertname, deployment) alerts, firing or resolved;
        return the incident ids it answers with."""
        body = {
            "version": "4",
            "status": status,
            "receiver": "selfheal",
            "groupLabels": {"namespace": namespace},
            "commonLabels": {"namespace": namespace},
            "commonAnnotations": {},
            "externalURL": "http://drill-alertmanager",
            "groupKey": f'{{}}:{{namespace="{namespace}"}}',
            "truncatedAlerts": 0,
            "alerts": [
                {
                    "status": status,
                    "labels": {
                        "alertname": alertname,
                        "namespace": namespace,
                        "deployment": deployment,
                        "cluster": "sandbox",
                        "severity": "critical",
                        **(labels or {}),
                    },
                    "annotations": {"summary": f"{deployment} is failing ({alertname})"},
                    "startsAt": "2025-01-01T00:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://drill-prometheus/graph",
                    "fingerprint": f"{alertname}-{deployment}",
                }
                for alertname, deployment in alerts
            ],
        }
        token = self.running.env["SELFHEAL_WEBHOOK_TOKEN"]
        answer = httpx.post(
            self.running.info.webhook["url"] + "/webhooks/alertmanager",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        assert answer.status_code == 202, answer.text
        return [incident["incident_id"] for incident in answer.json()["incidents"]]

    def mutations(self) -> Counter[str]:
        """How many mutating requests the sandbox cluster has served, by "METHOD path"."""
        answer = httpx.get(self.kube_url + "/sandbox/v1/requests", timeout=30)
        answer.raise_for_status()
        by_route: dict[str, int] = answer.json()["by_route"]
        return Counter(
            {route: n for route, n in by_route.items() if route.split(" ", 1)[0] in MUTATING}
        )


async def wait_for_incidents(
    client: Client,
    incident_ids: Iterable[str],
    done: Callable[[IncidentStatus], bool],
    timeout: float = 120,
) -> dict[str, IncidentStatus]:
    """Poll the `status` query of every incident until `done` holds for each; return them."""
    pending = set(incident_ids)
    reached: dict[str, IncidentStatus] = {}
    last: dict[str, IncidentStatus] = {}
    deadline = time.monotonic() + timeout
    while pending:
        for incident_id in sorted(pending):
            try:
                status = await incident_status(client, incident_id)
            except Exception:  # not started yet, or the worker is still replaying it
                continue
            last[incident_id] = status
            if done(status):
                reached[incident_id] = status
                pending.discard(incident_id)
        if not pending:
            break
        if time.monotonic() > deadline:
            states = {
                i: (f"{last[i].state.value}: {last[i].timeline[-1].note}" if i in last else "?")
                for i in sorted(pending)
            }
            raise AssertionError(f"incidents not done within {timeout}s: {states}")
        await asyncio.sleep(0.5)
    return reached


def in_state(state: IncidentState) -> Callable[[IncidentStatus], bool]:
    """A `done` test for wait_for_incidents: the incident is in `state`."""
    return lambda status: status.state == state
