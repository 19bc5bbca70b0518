"""`KubeSandbox`: the Kubernetes stand-in served over HTTP, with its controllers and kubelet."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from selfheal_lab.sandbox.control import ControlRoutes, RequestCounter
from selfheal_lab.sandbox.github.faults import FaultMiddleware, Faults
from selfheal_lab.sandbox.kube import defaults
from selfheal_lab.sandbox.kube.api import build_app
from selfheal_lab.sandbox.kube.controllers import Controllers
from selfheal_lab.sandbox.kube.demo import DEMO_APPS, DEMO_NAMESPACE, demo_objects
from selfheal_lab.sandbox.kube.errors import ApiError
from selfheal_lab.sandbox.kube.events import EventRecorder
from selfheal_lab.sandbox.kube.images import Registry, demo_registry
from selfheal_lab.sandbox.kube.kubeconfig import write_kubeconfig
from selfheal_lab.sandbox.kube.kubelet import Kubelet, Timing
from selfheal_lab.sandbox.kube.metrics import ClusterMetrics
from selfheal_lab.sandbox.kube.node_failures import NodeFailures
from selfheal_lab.sandbox.kube.nodes import node_objects
from selfheal_lab.sandbox.kube.resources import DEPLOYMENTS, NAMESPACES, NODES, type_for_kind
from selfheal_lab.sandbox.kube.storage import standard_class
from selfheal_lab.sandbox.kube.store import Obj, Store
from selfheal_lab.sandbox.kube.workload_controllers import WorkloadControllers
from selfheal_lab.sandbox.serving import ServedApp

log = structlog.get_logger(__name__)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass
class KubeSandbox:
    """A one-process Kubernetes cluster stand-in: API server, controllers, scheduler, kubelet.

    `timing` sets how fast simulated time runs (tests use a small `scale`); `progress_scale`
    shortens Deployments' progressDeadlineSeconds by the same idea.
    """

    seed_demo: bool = True
    timing: Timing = field(default_factory=Timing)
    registry: Registry = field(default_factory=demo_registry)
    progress_scale: float = 1.0
    host: str = "127.0.0.1"
    port: int = 0
    store: Store = field(default_factory=Store)
    faults: Faults = field(default_factory=Faults)
    requests: RequestCounter = field(default_factory=RequestCounter)
    _served: ServedApp | None = field(default=None, init=False, repr=False)
    _loop: threading.Thread | None = field(default=None, init=False, repr=False)
    _stopping: threading.Event = field(default_factory=threading.Event, init=False, repr=False)

    def __post_init__(self) -> None:
        self.events = EventRecorder(self.store)
        self.controllers = Controllers(self.store, self.events, self.progress_scale)
        self.workloads = WorkloadControllers.create(self.store, self.events, self.timing)
        self.kubelet = Kubelet(self.store, self.registry, self.events, self.timing)
        self.node_failures = NodeFailures(self.store, self.events, self.registry, self.timing)

    @property
    def url(self) -> str:
        if self._served is None:
            raise RuntimeError("the sandbox cluster is not started")
        return self._served.url

    def start(self) -> str:
        """Seed the cluster, serve the API, start the control loops; return the API URL."""
        self._seed()
        metrics = ClusterMetrics(self.store, self.kubelet)
        api = FaultMiddleware(build_app(self.store, metrics), self.faults, _fault_status)
        served = ControlRoutes(api, self.faults, self.requests)
        self._served = ServedApp(served, host=self.host, port=self.port).start()
        self._stopping.clear()
        self._loop = threading.Thread(target=self._run, name="kube-sandbox-loop", daemon=True)
        self._loop.start()
        return self._served.url

    def stop(self) -> None:
        """Stop the control loops and the HTTP server (releasing requests held by a hang)."""
        self.faults.clear()
        self._stopping.set()
        if self._loop is not None:
            self._loop.join(timeout=5)
        if self._served is not None:
            self._served.stop()

    def write_kubeconfig(self, path: str | Path, namespace: str = DEMO_NAMESPACE) -> Path:
        """Write a kubeconfig for this sandbox to `path` and return it."""
        return write_kubeconfig(path, self.url, namespace)

    def apply(self, obj: Obj) -> Obj:
        """Create an object in-process (defaults applied), as a client's POST would."""
        rtype = type_for_kind(obj["apiVersion"], obj["kind"])
        if rtype is None:
            raise ValueError(f"the sandbox does not serve {obj['apiVersion']} {obj['kind']}")
        obj = defaults.apply_defaults(dict(obj))
        return self.store.create(rtype, obj.get("metadata", {}).get("namespace", ""), obj)

    def sync(self) -> None:
        """Run the controllers and the kubelet once (the loop does this every tick)."""
        self.controllers.sync()
        self.workloads.sync()
        self.node_failures.sync()
        self.kubelet.sync()

    def wait_for_available(
        self,
        namespace: str = DEMO_NAMESPACE,
        names: tuple[str, ...] = DEMO_APPS,
        timeout: float = 30,
    ) -> None:
        """Block until the named Deployments have all replicas updated and available."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self._rolled_out(namespace, name) for name in names):
                return
            time.sleep(self.timing.tick)
        raise TimeoutError(f"deployments {names} in {namespace} did not become available")

    def _rolled_out(self, namespace: str, name: str) -> bool:
        deployment = self.store.find(DEPLOYMENTS, namespace, name)
        if deployment is None:
            return False
        spec, status = deployment["spec"], deployment.get("status") or {}
        want = spec.get("replicas", 1)
        return (
            status.get("observedGeneration") == deployment["metadata"]["generation"]
            and status.get("updatedReplicas", 0) == want
            and status.get("availableReplicas", 0) == want
            and status.get("replicas", 0) == want
        )

    def _seed(self) -> None:
        for node in node_objects():
            with contextlib.suppress(ApiError):
                self.store.create(NODES, "", node)
        for name in SYSTEM_NAMESPACES:
            with contextlib.suppress(ApiError):
                self.store.create(NAMESPACES, "", {"metadata": {"name": name}})
        with contextlib.suppress(ApiError):
            self.apply(standard_class())
        if self.seed_demo:
            for obj in demo_objects():
                with contextlib.suppress(ApiError):
                    self.apply(obj)

    def _run(self) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                self.sync()
            except Exception:  # the loop must outlive one bad object
                log.exception("sandbox control loop failed")
            self._stopping.wait(max(self.timing.tick - (time.monotonic() - started), 0.01))

    def __enter__(self) -> KubeSandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _fault_status(code: int) -> dict[str, Any]:
    """The Status body an apiserver sends with an injected error `code`."""
    reason = "ServiceUnavailable" if code >= 500 else "Forbidden" if code == 403 else "BadRequest"
    return ApiError(code, reason, f"injected fault: the apiserver answers {code}").status()
