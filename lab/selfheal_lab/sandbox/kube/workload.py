"""What a container's process does once started: when it exits, and what its probes see."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from selfheal_lab.sandbox.kube.images import ImageBehaviour
from selfheal_lab.sandbox.kube.quantity import cpu_millis, memory_mib

SHELLS = ("sh", "/bin/sh", "bash", "/bin/bash", "ash", "/bin/ash")


@dataclass(frozen=True)
class Exit:
    """The process ends `after_seconds` (simulated) after start with this code and reason."""

    exit_code: int
    after_seconds: float
    reason: str
    log: tuple[str, ...]
    message: str = ""


@dataclass(frozen=True)
class Process:
    """The plan for one container instance."""

    exit: Exit | None  # None: runs until killed
    serves_http: bool
    startup_seconds: float
    log: tuple[str, ...]


def _limit(container: dict[str, Any], resource: str) -> str | None:
    limits = (container.get("resources") or {}).get("limits") or {}
    value = limits.get(resource)
    return None if value is None else str(value)


def _shell_process(script: str) -> Process:
    echoed = tuple(m.strip() for m in re.findall(r"echo\s+[\"']?([^\"';&|]*)", script))
    exit_match = re.search(r"\bexit\s+(\d+)", script)
    if exit_match:
        code = int(exit_match.group(1))
        reason = "Error" if code else "Completed"
        return Process(Exit(code, 1.0, reason, echoed), False, 0.0, echoed)
    if "sleep" in script or "while true" in script:
        return Process(None, False, 0.0, echoed)
    return Process(Exit(0, 0.5, "Completed", echoed), False, 0.0, echoed)


def _unreachable_dependency(
    image: ImageBehaviour, env: Mapping[str, str], resolves: Callable[[str], bool]
) -> Process | None:
    """The process that dies at start because a dependency's host does not resolve, if any."""
    for dependency in image.dependencies:
        url = env.get(dependency.env, dependency.default_url)
        host = urlsplit(url).hostname or url
        if host == urlsplit(dependency.default_url).hostname or resolves(host):
            continue
        fatal = dependency.fatal_log.format(url=url, host=host)
        log = (*image.startup_log[: dependency.lines_before], fatal)
        return Process(Exit(1, 0.5, "Error", log), True, 0, ())
    return None


def plan_process(
    container: dict[str, Any],
    image: ImageBehaviour,
    env: Mapping[str, str] | None = None,
    resolves: Callable[[str], bool] = lambda host: True,
) -> Process:
    """Return what the container will do, from its command, its limits, its environment
    (`env`, and whether a host `resolves` in cluster DNS) and the image's behaviour."""
    command = [str(part) for part in container.get("command") or []]
    argv = command + [str(part) for part in container.get("args") or []]
    if command and command[0] in SHELLS and "-c" in argv:
        index = argv.index("-c")
        script = argv[index + 1] if index + 1 < len(argv) else ""
        if not image.entrypoint[0] or image.entrypoint[0] not in script:
            return _shell_process(script)
    elif command and not image.generic and command[0] != image.entrypoint[0]:
        message = (
            "failed to create containerd task: failed to create shim task: OCI runtime create "
            "failed: runc create failed: unable to start container process: exec: "
            f'"{command[0]}": executable file not found in $PATH: unknown'
        )
        return Process(Exit(128, 0.0, "StartError", (), message), False, 0.0, ())

    startup = image.startup_seconds
    cpu_limit = _limit(container, "cpu")
    if cpu_limit is not None and cpu_millis(cpu_limit) < image.cpu_millis:
        # CFS throttling: a starved process starts proportionally slower.
        startup *= image.cpu_millis / max(cpu_millis(cpu_limit), 1.0)

    if image.crash is not None:
        crash = image.crash
        return Process(Exit(crash.exit_code, crash.after_seconds, "Error", crash.log), True, 0, ())
    unreachable = _unreachable_dependency(image, env or {}, resolves)
    if unreachable is not None:
        return unreachable

    memory_limit = _limit(container, "memory")
    if memory_limit is not None and memory_mib(memory_limit) < image.memory_mib:
        # The working set grows while warming up; the cgroup limit is hit near the end of it.
        partial = image.startup_log[: max(len(image.startup_log) - 1, 1)]
        return Process(Exit(137, startup * 0.8, "OOMKilled", partial), True, startup, ())
    return Process(None, True, startup, image.startup_log)


def resolve_port(container: dict[str, Any], port: Any) -> int:
    """Return a probe's port number, resolving a named container port."""
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for declared in container.get("ports") or []:
        if declared.get("name") == port:
            return int(declared.get("containerPort", 0))
    return 0


@dataclass(frozen=True)
class ProbeView:
    """What the process looks like to a probe at this moment."""

    ip: str
    serving: bool  # the process started and finished starting up
    overloaded: bool


def probe_failure(
    probe: dict[str, Any],
    container: dict[str, Any],
    image: ImageBehaviour,
    process: Process,
    view: ProbeView,
) -> str | None:
    """Return None if the probe passes, else the kubelet's failure message for it."""
    if "exec" in probe or "grpc" in probe:
        return None
    handler = probe.get("httpGet") or probe.get("tcpSocket") or {}
    port = resolve_port(container, handler.get("port"))
    refused = f"dial tcp {view.ip}:{port}: connect: connection refused"
    listening = process.serves_http and view.serving and (image.generic or port == image.port)
    if "tcpSocket" in probe:
        return None if listening else refused
    path = handler.get("path") or "/"
    url = f"http://{view.ip}:{port}{path}"
    if not listening:
        return f'Get "{url}": {refused}'
    if view.overloaded:
        return (
            f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting '
            "headers)"
        )
    if not image.generic and path.split("?")[0] not in image.paths:
        return "HTTP probe failed with statuscode: 404"
    return None
