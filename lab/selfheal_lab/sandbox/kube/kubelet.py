"""The simulated scheduler and kubelet: bind pods to nodes and run their containers' life cycles.

Each sync looks at every pod, advances each container's state machine (pull, config, start,
run, probe, exit, back-off), and writes the pod status and the events a real kubelet would.
Pods annotated `sandbox.selfheal.dev/static: "true"` are left exactly as stored.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from selfheal_lab.sandbox.kube.events import EventRecorder
from selfheal_lab.sandbox.kube.images import ImageBehaviour, Registry
from selfheal_lab.sandbox.kube.nodes import choose_node, failure_of
from selfheal_lab.sandbox.kube.resources import (
    CONFIGMAPS,
    NAMESPACES,
    NODES,
    PODS,
    SECRETS,
    SERVICES,
)
from selfheal_lab.sandbox.kube.storage import unbound_claims_message
from selfheal_lab.sandbox.kube.store import Obj, Store, now_rfc3339
from selfheal_lab.sandbox.kube.workload import ProbeView, Process, plan_process, probe_failure

STATIC_ANNOTATION = "sandbox.selfheal.dev/static"
MAX_LOG_LINES = 200


@dataclass(frozen=True)
class Timing:
    """How simulated time maps to wall time; `scale` 0.05 makes a 10 s back-off take 0.5 s."""

    tick: float = 0.2
    scale: float = 0.05
    image_pull_seconds: float = 1.0
    backoff_base_seconds: float = 10.0
    backoff_cap_seconds: float = 300.0
    scheduler_retry_seconds: float = 10.0
    log_interval_seconds: float = 5.0

    def wall(self, simulated_seconds: float) -> float:
        return simulated_seconds * self.scale


def go_duration(seconds: float) -> str:
    """Return a back-off the way Go prints a time.Duration: 10s, 1m20s, 5m0s."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    return f"{whole // 60}m{whole % 60}s"


@dataclass
class ContainerRun:
    """The kubelet's memory of one container across restarts."""

    name: str
    stage: str = "new"  # new, pulling, pull_error, pull_backoff, create, running, backoff, done
    next_at: float = 0.0
    image: ImageBehaviour | None = None
    image_ref: str = ""
    process: Process | None = None
    started_wall: float = 0.0
    started_at: str = ""
    container_id: str = ""
    restarts: int = 0
    crash_backoff: float = 0.0
    pull_backoff: float = 0.0
    waiting: tuple[str, str] | None = ("ContainerCreating", "")
    terminated: dict[str, Any] | None = None
    last_terminated: dict[str, Any] | None = None
    ready: bool = False
    readiness_next: float = 0.0
    readiness_failures: int = 0
    readiness_successes: int = 0
    liveness_next: float = 0.0
    liveness_failures: int = 0
    log_next: float = 0.0
    log_turn: int = 0


@dataclass
class PodRun:
    node: str = ""
    ip: str = ""
    host_ip: str = ""
    start_time: str = ""
    containers: dict[str, ContainerRun] = field(default_factory=dict)
    next_schedule: float = 0.0
    unschedulable: str = ""


def _container_id(seed: str) -> str:
    return "containerd://" + hashlib.sha256(f"{seed}{time.time_ns()}".encode()).hexdigest()


def _app_key(pod: Obj) -> tuple[str, str]:
    labels = pod["metadata"].get("labels") or {}
    app = labels.get("app") or labels.get("app.kubernetes.io/name") or pod["metadata"]["name"]
    return pod["metadata"].get("namespace", ""), app


@dataclass
class Kubelet:
    """Scheduler plus kubelet for every node of the sandbox cluster."""

    store: Store
    registry: Registry
    events: EventRecorder
    timing: Timing = field(default_factory=Timing)
    _pods: dict[str, PodRun] = field(default_factory=dict)
    _pulled: set[tuple[str, str]] = field(default_factory=set)
    _serving: dict[tuple[str, str], int] = field(default_factory=dict)
    _next_ip: int = 2

    def sync(self) -> None:
        """Advance every non-static pod by one step."""
        pods, _ = self.store.list(PODS)
        nodes, _ = self.store.list(NODES)
        self._serving = self._count_serving(pods)
        down = {n["metadata"]["name"] for n in nodes if failure_of(n) == "not-ready"}
        alive = set()
        for pod in pods:
            meta = pod["metadata"]
            if (meta.get("annotations") or {}).get(STATIC_ANNOTATION) == "true":
                continue
            if pod.get("spec", {}).get("nodeName") in down or _evicted(pod):
                alive.add(meta["uid"])
                continue  # no kubelet reports for it, or it has stopped for good
            alive.add(meta["uid"])
            run = self._pods.setdefault(meta["uid"], PodRun())
            if not pod.get("spec", {}).get("nodeName"):
                self._schedule(pod, run, nodes, pods)
                continue
            if not run.node:
                self._adopt(pod, run, nodes)
            self._sync_pod(pod, run)
        for uid in set(self._pods) - alive:
            del self._pods[uid]

    def pod_run(self, uid: str) -> PodRun | None:
        """What the kubelet remembers of the pod `uid` (its containers' runs), if it runs it."""
        return self._pods.get(uid)

    # ---- scheduling --------------------------------------------------------------------

    def _schedule(self, pod: Obj, run: PodRun, nodes: list[Obj], pods: list[Obj]) -> None:
        now = time.monotonic()
        if now < run.next_schedule:
            return
        message = unbound_claims_message(self.store, pod, len(nodes))
        node, message = (None, message) if message else choose_node(pod, nodes, pods)
        meta = pod["metadata"]
        if node is None:
            run.next_schedule = now + self.timing.wall(self.timing.scheduler_retry_seconds)
            run.unschedulable = message
            self.events.record(pod, "Warning", "FailedScheduling", message, "default-scheduler")

            def pending(p: Obj) -> None:
                p["status"] = {
                    "phase": "Pending",
                    "qosClass": _qos_class(p),
                    "conditions": [
                        _condition(p, "PodScheduled", "False", "Unschedulable", message)
                    ],
                }

            self.store.mutate(PODS, meta["namespace"], meta["name"], pending)
            return

        def bind(p: Obj) -> None:
            p["spec"]["nodeName"] = node

        bound = self.store.mutate(PODS, meta["namespace"], meta["name"], bind)
        if bound is None:
            return
        self.events.record(
            bound,
            "Normal",
            "Scheduled",
            f"Successfully assigned {meta['namespace']}/{meta['name']} to {node}",
            "default-scheduler",
        )
        pod["spec"]["nodeName"] = node
        self._adopt(pod, run, nodes)
        self._sync_pod(pod, run)

    def _adopt(self, pod: Obj, run: PodRun, nodes: list[Obj]) -> None:
        run.node = pod["spec"]["nodeName"]
        node_index = next((i for i, n in enumerate(nodes) if n["metadata"]["name"] == run.node), 0)
        run.host_ip = f"172.18.0.{node_index + 2}"
        self._next_ip += 1
        run.ip = f"10.244.{node_index + 1}.{self._next_ip % 250 + 2}"
        run.start_time = now_rfc3339()
        run.unschedulable = ""

    # ---- containers --------------------------------------------------------------------

    def _sync_pod(self, pod: Obj, run: PodRun) -> None:
        spec = pod.get("spec", {})
        for container in spec.get("containers") or []:
            state = run.containers.setdefault(container["name"], ContainerRun(container["name"]))
            self._step(pod, run, container, state)
        status = self._status(pod, run)
        meta = pod["metadata"]
        if _keep_transition_times(pod.get("status") or {}, status) == pod.get("status"):
            return  # nothing changed since the pod was listed: spare the store a write

        def write(p: Obj) -> None:
            p["status"] = _keep_transition_times(p.get("status") or {}, status)

        self.store.mutate(PODS, meta["namespace"], meta["name"], write)

    def _record(
        self, pod: Obj, run: PodRun, container: str, kind: str, reason: str, message: str
    ) -> None:
        self.events.record(
            pod,
            kind,
            reason,
            message,
            "kubelet",
            host=run.node,
            field_path=f"spec.containers{{{container}}}",
        )

    def _step(self, pod: Obj, run: PodRun, container: dict[str, Any], c: ContainerRun) -> None:
        now = time.monotonic()
        image = str(container.get("image", ""))
        timing = self.timing
        if c.stage == "done" or (now < c.next_at and c.stage != "running"):
            return
        if c.stage == "new" or c.stage == "pull_backoff":
            always = container.get("imagePullPolicy") == "Always"
            if c.image is not None and not always:
                c.stage = "create"
            else:
                self._record(pod, run, c.name, "Normal", "Pulling", f'Pulling image "{image}"')
                c.stage, c.next_at = "pulling", now + timing.wall(timing.image_pull_seconds)
                return
        if c.stage == "pulling":
            behaviour = self.registry.resolve(image)
            if behaviour is None:
                self._pull_failed(pod, run, c, image)
                c.stage, c.next_at = "pull_error", now + timing.wall(2.0)
                return
            pulled = (run.node, image) in self._pulled
            if pulled and container.get("imagePullPolicy") != "Always":
                message = f'Container image "{image}" already present on machine'
            else:
                message = (
                    f'Successfully pulled image "{image}" in 1.032s (1.032s including waiting). '
                    f"Image size: {behaviour.size_bytes} bytes."
                )
            self._pulled.add((run.node, image))
            self._record(pod, run, c.name, "Normal", "Pulled", message)
            c.image, c.image_ref, c.pull_backoff = behaviour, image, 0.0
            c.stage = "create"
        if c.stage == "pull_error":
            c.pull_backoff = min(
                max(c.pull_backoff * 2, timing.backoff_base_seconds), timing.backoff_cap_seconds
            )
            c.waiting = ("ImagePullBackOff", f'Back-off pulling image "{image}"')
            self._record(pod, run, c.name, "Normal", "BackOff", f'Back-off pulling image "{image}"')
            self._record(pod, run, c.name, "Warning", "Failed", "Error: ImagePullBackOff")
            c.stage, c.next_at = "pull_backoff", now + timing.wall(c.pull_backoff)
            return
        if c.stage == "create":
            self._create(pod, run, container, c, now)
        if c.stage == "running":
            self._run(pod, run, container, c, now)
        elif c.stage == "backoff":
            c.stage = "create"
            if c.image is not None and c.image_ref == image:
                self._record(
                    pod,
                    run,
                    c.name,
                    "Normal",
                    "Pulled",
                    f'Container image "{image}" already present on machine',
                )
            self._create(pod, run, container, c, now)

    def _pull_failed(self, pod: Obj, run: PodRun, c: ContainerRun, image: str) -> None:
        reference = image if ":" in image.rsplit("/", 1)[-1] else f"{image}:latest"
        error = (
            f'rpc error: code = NotFound desc = failed to pull and unpack image "{reference}": '
            f'failed to resolve reference "{reference}": {reference}: not found'
        )
        message = f'Failed to pull image "{image}": {error}'
        self._record(pod, run, c.name, "Warning", "Failed", message)
        self._record(pod, run, c.name, "Warning", "Failed", "Error: ErrImagePull")
        c.waiting = ("ErrImagePull", error)

    def _create(
        self, pod: Obj, run: PodRun, container: dict[str, Any], c: ContainerRun, now: float
    ) -> None:
        error = self._config_error(pod, container)
        if error:
            c.waiting = ("CreateContainerConfigError", error)
            self._record(pod, run, c.name, "Warning", "Failed", f"Error: {error}")
            c.next_at = now + self.timing.wall(self.timing.backoff_base_seconds)
            return
        assert c.image is not None
        if c.container_id:
            c.restarts += 1
            self._rotate_log(pod, c.name)
        process = plan_process(
            container, c.image, self._environment(pod, container), self._resolver(pod)
        )
        c.process = process
        c.container_id = _container_id(pod["metadata"]["uid"] + c.name)
        c.started_wall, c.started_at = now, now_rfc3339()
        c.waiting, c.terminated, c.ready = None, None, False
        c.readiness_failures = c.readiness_successes = c.liveness_failures = 0
        delay = self._probe(container, "readinessProbe").get("initialDelaySeconds", 0)
        c.readiness_next = now + self.timing.wall(float(delay))
        delay = self._probe(container, "livenessProbe").get("initialDelaySeconds", 0)
        c.liveness_next = now + self.timing.wall(float(delay))
        c.log_next = now + self.timing.wall(process.startup_seconds)
        meta = pod["metadata"]
        self.store.set_log(meta["namespace"], meta["name"], c.name, "", previous=False)
        self.store.append_log(meta["namespace"], meta["name"], c.name, list(process.log))
        self._record(pod, run, c.name, "Normal", "Created", f"Created container: {c.name}")
        if process.exit is not None and process.exit.reason == "StartError":
            self._record(pod, run, c.name, "Warning", "Failed", f"Error: {process.exit.message}")
        else:
            self._record(pod, run, c.name, "Normal", "Started", f"Started container {c.name}")
        c.stage = "running"

    def _run(
        self, pod: Obj, run: PodRun, container: dict[str, Any], c: ContainerRun, now: float
    ) -> None:
        assert c.process is not None and c.image is not None
        process, timing = c.process, self.timing
        exit_plan = process.exit
        if exit_plan is not None and now >= c.started_wall + timing.wall(exit_plan.after_seconds):
            if exit_plan.log and exit_plan.reason != "StartError":
                meta = pod["metadata"]
                log = self.store.get_log(meta["namespace"], meta["name"], c.name, False) or ""
                if not log.strip():
                    self.store.append_log(
                        meta["namespace"], meta["name"], c.name, list(exit_plan.log)
                    )
            self._terminate(pod, run, c, exit_plan.exit_code, exit_plan.reason, exit_plan.message)
            return
        serving = now >= c.started_wall + timing.wall(process.startup_seconds)
        view = ProbeView(
            ip=run.ip,
            serving=serving,
            overloaded=serving and self._overloaded(pod, c.image),
        )
        readiness = self._probe(container, "readinessProbe")
        if not readiness:
            c.ready = True
        elif now >= c.readiness_next:
            c.readiness_next = now + timing.wall(float(readiness.get("periodSeconds", 10)))
            failure = probe_failure(readiness, container, c.image, process, view)
            if failure is None:
                c.readiness_failures = 0
                c.readiness_successes += 1
                if c.readiness_successes >= int(readiness.get("successThreshold", 1)):
                    c.ready = True
            else:
                c.readiness_successes = 0
                c.readiness_failures += 1
                self._record(
                    pod, run, c.name, "Warning", "Unhealthy", f"Readiness probe failed: {failure}"
                )
                if c.readiness_failures >= int(readiness.get("failureThreshold", 3)):
                    c.ready = False
        liveness = self._probe(container, "livenessProbe")
        if liveness and now >= c.liveness_next:
            c.liveness_next = now + timing.wall(float(liveness.get("periodSeconds", 10)))
            failure = probe_failure(liveness, container, c.image, process, view)
            if failure is None:
                c.liveness_failures = 0
            else:
                c.liveness_failures += 1
                self._record(
                    pod, run, c.name, "Warning", "Unhealthy", f"Liveness probe failed: {failure}"
                )
                if c.liveness_failures >= int(liveness.get("failureThreshold", 3)):
                    self._record(
                        pod,
                        run,
                        c.name,
                        "Normal",
                        "Killing",
                        f"Container {c.name} failed liveness probe, will be restarted",
                    )
                    self._terminate(pod, run, c, 137, "Error", "")
                    return
        if serving and now >= c.log_next:
            c.log_next = now + timing.wall(timing.log_interval_seconds)
            lines = c.image.overload_log if view.overloaded else c.image.request_log
            if lines:
                meta = pod["metadata"]
                line = lines[c.log_turn % len(lines)]
                c.log_turn += 1
                self.store.append_log(meta["namespace"], meta["name"], c.name, [line])
                self._trim_log(pod, c.name)

    def _terminate(
        self, pod: Obj, run: PodRun, c: ContainerRun, code: int, reason: str, message: str
    ) -> None:
        now = time.monotonic()
        terminated: dict[str, Any] = {
            "exitCode": code,
            "reason": reason,
            "startedAt": c.started_at,
            "finishedAt": now_rfc3339(),
            "containerID": c.container_id,
        }
        if message:
            terminated["message"] = message
        c.ready = False
        c.last_terminated = terminated
        policy = pod.get("spec", {}).get("restartPolicy", "Always")
        if policy == "Never" or (policy == "OnFailure" and code == 0):
            c.terminated, c.stage = terminated, "done"
            return
        meta = pod["metadata"]
        ran = now - c.started_wall
        if ran > self.timing.wall(600):
            c.crash_backoff = 0.0
        if c.crash_backoff == 0.0 and c.restarts == 0:
            # The first restart is immediate; back-off starts with the second.
            c.crash_backoff = self.timing.backoff_base_seconds / 2
            c.terminated, c.stage, c.next_at = terminated, "backoff", now
            return
        c.crash_backoff = min(
            max(c.crash_backoff * 2, self.timing.backoff_base_seconds),
            self.timing.backoff_cap_seconds,
        )
        pod_ref = f"{meta['name']}_{meta['namespace']}({meta['uid']})"
        c.terminated = None
        c.waiting = (
            "CrashLoopBackOff",
            f"back-off {go_duration(c.crash_backoff)} restarting failed "
            f"container={c.name} pod={pod_ref}",
        )
        self._record(
            pod,
            run,
            c.name,
            "Warning",
            "BackOff",
            f"Back-off restarting failed container {c.name} in pod {pod_ref}",
        )
        c.stage, c.next_at = "backoff", now + self.timing.wall(c.crash_backoff)

    # ---- inputs --------------------------------------------------------------------------

    @staticmethod
    def _probe(container: dict[str, Any], name: str) -> dict[str, Any]:
        return dict(container.get(name) or {})

    def _config_error(self, pod: Obj, container: dict[str, Any]) -> str:
        namespace = pod["metadata"]["namespace"]
        refs: list[tuple[str, dict[str, Any], bool]] = []
        for env in container.get("env") or []:
            source = env.get("valueFrom") or {}
            for kind in ("secretKeyRef", "configMapKeyRef"):
                if kind in source:
                    refs.append((kind, source[kind], True))
        for env_from in container.get("envFrom") or []:
            for kind in ("secretRef", "configMapRef"):
                if kind in env_from:
                    refs.append((kind, env_from[kind], False))
        for kind, ref, keyed in refs:
            if ref.get("optional"):
                continue
            is_secret = kind.startswith("secret")
            rtype, label = (SECRETS, "Secret") if is_secret else (CONFIGMAPS, "ConfigMap")
            name = ref.get("name", "")
            obj = self.store.find(rtype, namespace, name)
            if obj is None:
                return f'{"secret" if is_secret else "configmap"} "{name}" not found'
            data = {**(obj.get("data") or {}), **(obj.get("stringData") or {})}
            if keyed and ref.get("key") not in data:
                return f"couldn't find key {ref.get('key')} in {label} {namespace}/{name}"
        return ""

    def _environment(self, pod: Obj, container: dict[str, Any]) -> dict[str, str]:
        """The container's env values: literal ones and those from ConfigMap keys."""
        namespace = pod["metadata"]["namespace"]
        found: dict[str, str] = {}
        for env in container.get("env") or []:
            if "value" in env:
                found[env["name"]] = str(env["value"])
                continue
            ref = (env.get("valueFrom") or {}).get("configMapKeyRef") or {}
            config_map = (
                self.store.find(CONFIGMAPS, namespace, ref.get("name", "")) if ref else None
            )
            if config_map is not None and ref.get("key") in (config_map.get("data") or {}):
                found[env["name"]] = str(config_map["data"][ref["key"]])
        return found

    def _resolver(self, pod: Obj) -> Callable[[str], bool]:
        """Whether cluster DNS answers a name: a Service's `<svc>[.<ns>[.svc[.cluster.local]]]`;
        names outside the cluster are taken to resolve."""
        namespace = pod["metadata"]["namespace"]

        def resolves(host: str) -> bool:
            labels = host.rstrip(".").split(".")
            where = labels[1] if len(labels) > 1 else namespace
            in_cluster = labels[2:] in ([], ["svc"], ["svc", "cluster", "local"])
            if not in_cluster or self.store.find(NAMESPACES, "", where) is None:
                return True
            return self.store.find(SERVICES, where, labels[0]) is not None

        return resolves

    def _count_serving(self, pods: list[Obj]) -> dict[tuple[str, str], int]:
        now = time.monotonic()
        counts: dict[tuple[str, str], int] = {}
        for pod in pods:
            run = self._pods.get(pod["metadata"].get("uid", ""))
            if run is None:
                continue
            for c in run.containers.values():
                if (
                    c.stage == "running"
                    and c.process is not None
                    and c.process.serves_http
                    and now >= c.started_wall + self.timing.wall(c.process.startup_seconds)
                ):
                    key = _app_key(pod)
                    counts[key] = counts.get(key, 0) + 1
                    break
        return counts

    def serving(self, pod: Obj) -> int:
        """How many pods of `pod`'s app serve traffic now (at least 1): the app's traffic is
        shared among them, as a Service shares it among its ready endpoints."""
        return max(self._serving.get(_app_key(pod), 1), 1)

    def _overloaded(self, pod: Obj, image: ImageBehaviour) -> bool:
        if not image.capacity_rps or not image.traffic_rps:
            return False
        return image.traffic_rps / self.serving(pod) > image.capacity_rps

    def _rotate_log(self, pod: Obj, container: str) -> None:
        meta = pod["metadata"]
        current = self.store.get_log(meta["namespace"], meta["name"], container, False) or ""
        self.store.set_log(meta["namespace"], meta["name"], container, current, previous=True)

    def _trim_log(self, pod: Obj, container: str) -> None:
        meta = pod["metadata"]
        text = self.store.get_log(meta["namespace"], meta["name"], container, False) or ""
        lines = text.splitlines()
        if len(lines) > MAX_LOG_LINES:
            kept = "".join(line + "\n" for line in lines[-MAX_LOG_LINES:])
            self.store.set_log(meta["namespace"], meta["name"], container, kept, previous=False)

    # ---- status --------------------------------------------------------------------------

    def _status(self, pod: Obj, run: PodRun) -> dict[str, Any]:
        statuses = []
        for container in pod.get("spec", {}).get("containers") or []:
            c = run.containers[container["name"]]
            state: dict[str, Any]
            if c.waiting is not None:
                reason, message = c.waiting
                state = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
            elif c.terminated is not None:
                state = {"terminated": c.terminated}
            else:
                state = {"running": {"startedAt": c.started_at}}
            entry: dict[str, Any] = {
                "name": c.name,
                "image": container.get("image", ""),
                "imageID": "",
                "ready": c.ready and c.stage == "running",
                "restartCount": c.restarts,
                "started": c.stage == "running",
                "state": state,
                "lastState": {"terminated": c.last_terminated} if c.last_terminated else {},
            }
            if c.image is not None and c.image_ref:
                repository = c.image_ref.rsplit(":", 1)[0]
                entry["imageID"] = f"{repository}@{c.image.digest}"
            if c.container_id:
                entry["containerID"] = c.container_id
            statuses.append(entry)
        all_started = all(s.get("containerID") for s in statuses)
        finished = [c for c in run.containers.values() if c.stage == "done"]
        if finished and len(finished) == len(statuses):
            failed = any(c.terminated and c.terminated["exitCode"] != 0 for c in finished)
            phase = "Failed" if failed else "Succeeded"
        else:
            phase = "Running" if all_started else "Pending"
        unready = [s["name"] for s in statuses if not s["ready"]]
        ready = "False" if unready else "True"
        reason = "ContainersNotReady" if unready else ""
        message = f"containers with unready status: [{' '.join(unready)}]" if unready else ""
        return {
            "phase": phase,
            "conditions": [
                _condition(pod, "PodReadyToStartContainers", "True"),
                _condition(pod, "Initialized", "True"),
                _condition(pod, "Ready", ready, reason, message),
                _condition(pod, "ContainersReady", ready, reason, message),
                _condition(pod, "PodScheduled", "True"),
            ],
            "hostIP": run.host_ip,
            "hostIPs": [{"ip": run.host_ip}],
            "podIP": run.ip,
            "podIPs": [{"ip": run.ip}],
            "startTime": run.start_time,
            "containerStatuses": statuses,
            "qosClass": _qos_class(pod),
        }


def _evicted(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("reason") == "Evicted"


def _condition(
    pod: Obj, kind: str, status: str, reason: str = "", message: str = ""
) -> dict[str, Any]:
    condition: dict[str, Any] = {
        "type": kind,
        "status": status,
        "lastProbeTime": None,
        "lastTransitionTime": now_rfc3339(),
    }
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


def _keep_transition_times(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Keep a condition's lastTransitionTime while its status stays the same."""
    previous = {c.get("type"): c for c in old.get("conditions") or []}
    for condition in new.get("conditions") or []:
        before = previous.get(condition["type"])
        if before is not None and before.get("status") == condition["status"]:
            condition["lastTransitionTime"] = before.get("lastTransitionTime")
    return new


def _qos_class(pod: Obj) -> str:
    containers = pod.get("spec", {}).get("containers") or []
    requests_all = limits_all = True
    any_set = False
    for container in containers:
        resources = container.get("resources") or {}
        limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
        any_set = any_set or bool(limits or requests)
        for resource in ("cpu", "memory"):
            if resource not in limits:
                limits_all = False
            if requests.get(resource, limits.get(resource)) != limits.get(resource):
                requests_all = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if limits_all and requests_all else "Burstable"
