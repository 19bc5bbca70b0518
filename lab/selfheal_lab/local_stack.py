"""The local stack behind `selfheal up` / `down`: Temporal dev server, sandbox, worker, webhook,
and real Prometheus and Alertmanager where they are installed.

Each part runs as its own detached process so the stack outlives the command that started
it; `.selfheal/stack.json` records where everything is. Running `up` twice reuses the
live parts and starts only what is missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from temporalio.envconfig import ClientConfig

from selfheal.workflows.search import ALL_KEYS
from selfheal_lab.binaries import find_binary
from selfheal_lab.local_monitoring import (
    MONITOR_SOURCE,
    PROMETHEUS_SOURCE,
    LocalAlerting,
    install_hint,
    missing_monitoring,
)
from selfheal_lab.monitoring import wait_ready
from selfheal_lab.settings import LabSettings


@dataclass(frozen=True)
class StackPorts:
    """Where the stack's parts listen; the defaults are the documented ones."""

    temporal: int = 7233
    temporal_ui: int = 8233
    webhook: int = 8000
    metrics: int = 9464
    kubernetes: int = 8441
    github: int = 8442
    jira: int = 8443
    slack: int = 8444
    prometheus: int = 8445
    alertmanager: int = 8446

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal}"

    def env(self) -> dict[str, str]:
        """The settings that tell each process where the others are."""
        return {
            "TEMPORAL_ADDRESS": self.temporal_address,
            "SELFHEAL_TEMPORAL_UI_URL": f"http://127.0.0.1:{self.temporal_ui}",
            "SELFHEAL_WEBHOOK_PORT": str(self.webhook),
            "SELFHEAL_METRICS_PORT": str(self.metrics),
            "SELFHEAL_SANDBOX_KUBERNETES_PORT": str(self.kubernetes),
            "SELFHEAL_SANDBOX_GITHUB_PORT": str(self.github),
            "SELFHEAL_SANDBOX_JIRA_PORT": str(self.jira),
            "SELFHEAL_SANDBOX_SLACK_PORT": str(self.slack),
            "SELFHEAL_SANDBOX_PROMETHEUS_PORT": str(self.prometheus),
            "SELFHEAL_SANDBOX_ALERTMANAGER_PORT": str(self.alertmanager),
        }

    @classmethod
    def from_settings(cls, settings: LabSettings) -> StackPorts:
        """The ports the settings name; Temporal's from TEMPORAL_ADDRESS and the UI URL.

        TEMPORAL_ADDRESS is read through the SDK's own configuration, as `connect` reads it,
        so `up` and `demo` find the same server every other command talks to.
        """
        target = str(ClientConfig.load_client_connect_config().get("target_host") or "")
        _, _, temporal = target.rpartition(":")
        return cls(
            temporal=int(temporal) if temporal.isdigit() else cls.temporal,
            temporal_ui=urlsplit(settings.temporal_ui_url).port or cls.temporal_ui,
            webhook=settings.webhook_port,
            metrics=settings.metrics_port,
            kubernetes=settings.sandbox_kubernetes_port,
            github=settings.sandbox_github_port,
            jira=settings.sandbox_jira_port,
            slack=settings.sandbox_slack_port,
            prometheus=settings.sandbox_prometheus_port,
            alertmanager=settings.sandbox_alertmanager_port,
        )

    @classmethod
    def free(cls) -> StackPorts:
        """Ports nothing listens on now, for a second stack beside the first (tests)."""
        from selfheal_lab.sandbox.serving import free_ports

        return cls(*free_ports(len(fields(cls))))


class StackError(RuntimeError):
    """A part of the local stack could not be started; the message says which and why."""


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.3) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid: int | None) -> bool:
    """True when a process with this pid exists (and is not a zombie we own)."""
    if not pid:
        return False
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


@dataclass
class StackLayout:
    """Where the stack keeps its files."""

    home: Path

    @property
    def stack_file(self) -> Path:
        return self.home / "stack.json"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def database(self) -> Path:
        return self.home / "temporal.db"

    @property
    def kubeconfig(self) -> Path:
        return self.home / "kubeconfig"

    @property
    def env_file(self) -> Path:
        return self.home / "stack.env"


@dataclass
class StackInfo:
    """The content of `.selfheal/stack.json` (docs/cli.md, `selfheal up`)."""

    temporal: dict[str, str] = field(default_factory=dict)
    webhook: dict[str, str] = field(default_factory=dict)
    kubernetes: dict[str, str] = field(default_factory=dict)
    github: dict[str, str] = field(default_factory=dict)
    jira: dict[str, str] = field(default_factory=dict)
    slack: dict[str, str] = field(default_factory=dict)
    prometheus: dict[str, str] = field(default_factory=dict)
    alertmanager: dict[str, str] = field(default_factory=dict)
    alerts: dict[str, str] = field(default_factory=dict)
    """Who raises the sandbox's alerts: {"source": "prometheus" | "sandbox-monitor", "why"}."""
    pids: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        """The file's text; `prometheus` and `alertmanager` only when they run (DESIGN §9)."""
        only_when_running = ("prometheus", "alertmanager")
        shown = {k: v for k, v in self.__dict__.items() if v or k not in only_when_running}
        return json.dumps(shown, indent=2)

    @classmethod
    def read(cls, path: Path) -> StackInfo | None:
        """The recorded stack, or None when there is none."""
        if not path.exists():
            return None
        data: dict[str, Any] = json.loads(path.read_text())
        return cls(**{key: data.get(key, {}) for key in cls().__dict__})


SANDBOX_DEFAULTS = {
    # The sandbox's Kubernetes API is the cluster named `sandbox`; its monitor says so.
    "SELFHEAL_CLUSTER": "sandbox",
    "SELFHEAL_NAMESPACES": "demo",
    # The sandbox's pods fail and heal in seconds; a short window keeps the demo short.
    "SELFHEAL_VERIFY_WINDOW": "15s",
    # Its faults are seconds old when they page, so the evidence is the last minutes' metrics.
    "SELFHEAL_METRICS_WINDOW": "2m",
    "SELFHEAL_PR_POLL_INTERVAL": "30s",
}


def stack_environment(env_file: Path, with_sandbox: bool) -> dict[str, str]:
    """Settings the stack's processes share, kept in `env_file` so restarts agree.

    A webhook token and a GitHub webhook secret are generated once. Settings the user
    exported before `up` win over the stack's own.
    """
    env: dict[str, str] = {}
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            key, _, value = line.partition("=")
            if key:
                env[key] = value
    env.setdefault("SELFHEAL_WEBHOOK_TOKEN", secrets.token_urlsafe(24))
    env.setdefault("SELFHEAL_GITHUB_WEBHOOK_SECRET", secrets.token_urlsafe(24))
    env.setdefault("SELFHEAL_SLACK_SIGNING_SECRET", secrets.token_hex(16))
    if with_sandbox:
        for key, value in SANDBOX_DEFAULTS.items():
            env.setdefault(key, value)
    env_file.parent.mkdir(parents=True, exist_ok=True)
    env_file.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    env_file.chmod(0o600)
    return {key: value for key, value in env.items() if key not in os.environ}


def _spawn(command: list[str], log_file: Path, env: dict[str, str]) -> int:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    return process.pid


def _wait_for_port(port: int, pid: int, what: str, log_file: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if not pid_alive(pid):
            tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
            raise StackError(f"{what} exited during startup; last log lines:\n{tail}")
        if time.monotonic() > deadline:
            raise StackError(f"{what} did not open port {port} within {timeout:.0f}s ({log_file})")
        time.sleep(0.1)


def _wait_for_frontend(address: str, pid: int, log_file: Path, timeout: float) -> None:
    """Wait until the dev server answers, not only listens: after a restart on an existing
    database its frontend refuses calls ("Frontend is not healthy yet") for a moment."""
    deadline = time.monotonic() + timeout
    probe = [find_binary("temporal"), "operator", "cluster", "system", "--address", address]
    while True:
        answered = subprocess.run(probe, capture_output=True, text=True, timeout=10, check=False)
        if answered.returncode == 0:
            return
        if not pid_alive(pid):
            raise StackError(f"the Temporal dev server exited during startup ({log_file})")
        if time.monotonic() > deadline:
            raise StackError(
                f"the Temporal dev server at {address} did not become healthy within "
                f"{timeout:.0f}s: {answered.stderr.strip()[-300:]} ({log_file})"
            )
        time.sleep(0.2)


def _selfheal_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "selfheal", *args]


class LocalStack:
    """Starts, finds and stops the processes of the local stack."""

    def __init__(self, home: Path, ports: StackPorts | None = None) -> None:
        self.layout = StackLayout(home.resolve())
        self.ports = ports or StackPorts()

    def current(self) -> StackInfo | None:
        """The recorded stack if its Temporal server is still up."""
        info = StackInfo.read(self.layout.stack_file)
        if info and pid_alive(info.pids.get("temporal")) and port_open(self.ports.temporal):
            return info
        return None

    def up(
        self,
        *,
        with_sandbox: bool,
        with_webhook: bool,
        env: dict[str, str],
        prometheus: bool | None = None,
    ) -> StackInfo:
        """Start every part that is not already running and record the stack.

        With the sandbox, its alerts come from real Prometheus and Alertmanager when
        `prometheus` is True, or None (the default) and both are installed; else from the
        sandbox's own monitor. True with either missing is refused with the install command.
        """
        self.layout.home.mkdir(parents=True, exist_ok=True)
        # The recorded parts, even with Temporal down: each start below checks its own
        # process, so a restarted dev server rejoins the sandbox, worker and webhook still up.
        info = StackInfo.read(self.layout.stack_file) or StackInfo()
        base_env = {**os.environ, **env, **self.process_env()}
        try:
            self._start_temporal(info)
            if with_sandbox:
                self._choose_alerts(info, prometheus)
                self._start_sandbox(info, {**base_env, **self.alerts_env(info)})
                base_env.update(self.sandbox_env(info))
                if info.alerts["source"] == PROMETHEUS_SOURCE:
                    self._start_alerting(info, base_env)
                    base_env.update(self.alerting_env(info))
            self._start_worker(info, base_env)
            if with_webhook:
                self._start_webhook(info, base_env)
        finally:
            # Recorded even when a part failed to start, so `down` stops what did start.
            self.layout.stack_file.write_text(info.to_json())
        return info

    def process_env(self) -> dict[str, str]:
        """Where every process of this stack finds the others and its home."""
        return {**self.ports.env(), "SELFHEAL_HOME": str(self.layout.home)}

    def sandbox_env(self, info: StackInfo) -> dict[str, str]:
        """Settings that point selfheal at the sandbox stand-ins."""
        env = {"KUBECONFIG": str(self.layout.kubeconfig)}
        if info.github:
            env |= {"GITHUB_API_URL": info.github["url"], "GITHUB_REPO": info.github["repo"]}
            env.setdefault("GITHUB_TOKEN", "sandbox-selfheal-bot")
        if info.jira:
            env |= {"JIRA_URL": info.jira["url"], "JIRA_USER": "selfheal", "JIRA_TOKEN": "sandbox"}
        if info.slack:
            env |= {
                "SLACK_API_URL": info.slack["api_url"],
                "SLACK_BOT_TOKEN": info.slack["token"],
                "SLACK_CHANNEL": info.slack["channel"],
            }
        return env

    def _choose_alerts(self, info: StackInfo, prometheus: bool | None) -> None:
        """Decide who raises the sandbox's alerts; a running sandbox keeps its choice (one
        recorded before there was a choice runs its monitor)."""
        if pid_alive(info.pids.get("sandbox")):
            info.alerts = info.alerts or {"source": MONITOR_SOURCE, "why": "the running sandbox's"}
            return
        missing = missing_monitoring()
        if prometheus and missing:
            raise StackError(missing)
        if prometheus is False:
            info.alerts = {"source": MONITOR_SOURCE, "why": "asked for (--no-prometheus)"}
        elif missing:
            info.alerts = {
                "source": MONITOR_SOURCE,
                "why": f"prometheus and prometheus-alertmanager are not installed "
                f"(`{install_hint()}`)",
            }
        else:
            info.alerts = {"source": PROMETHEUS_SOURCE, "why": "found installed"}

    def alerts_env(self, info: StackInfo) -> dict[str, str]:
        """Whether the sandbox's own monitor posts alerts (not when Prometheus does)."""
        own = info.alerts.get("source", MONITOR_SOURCE) == MONITOR_SOURCE
        return {"SELFHEAL_SANDBOX_ALERT_MONITOR": "true" if own else "false"}

    def alerting_env(self, info: StackInfo) -> dict[str, str]:
        """Where the worker reads metrics and alerts."""
        return {
            "PROMETHEUS_URL": info.prometheus["url"],
            "ALERTMANAGER_URL": info.alertmanager["url"],
        }

    def _start_alerting(self, info: StackInfo, env: dict[str, str]) -> None:
        alerting = LocalAlerting(
            self.layout.home,
            prometheus_port=self.ports.prometheus,
            alertmanager_port=self.ports.alertmanager,
            sandbox_address=f"127.0.0.1:{self.ports.kubernetes}",
            webhook_url=f"http://127.0.0.1:{self.ports.webhook}",
            webhook_token=env.get("SELFHEAL_WEBHOOK_TOKEN", ""),
            cluster=env.get("SELFHEAL_CLUSTER", "sandbox"),
        )
        for name, server in (
            ("alertmanager", alerting.alertmanager()),
            ("prometheus", alerting.prometheus()),
        ):
            if pid_alive(info.pids.get(name)) and port_open(server.port):
                continue
            if port_open(server.port):
                raise StackError(
                    f"port {server.port} is taken by a process this stack did not start; "
                    f"stop it or set SELFHEAL_SANDBOX_{name.upper()}_PORT"
                )
            log_file = self.layout.logs / f"{name}.log"
            pid = _spawn(server.command(), log_file, dict(os.environ))
            info.pids[name] = pid
            try:
                wait_ready(server.url, _exit_probe(pid), log_file, 60)
            except (RuntimeError, TimeoutError) as failure:
                raise StackError(f"{name} did not start: {failure}") from failure
            setattr(info, name, {"url": server.url})

    def _start_temporal(self, info: StackInfo) -> None:
        port = self.ports.temporal
        if pid_alive(info.pids.get("temporal")) and port_open(port):
            return
        if port_open(port):
            raise StackError(
                f"port {port} is taken by a process this stack did not start; "
                "stop it or point TEMPORAL_ADDRESS at it and run the worker yourself"
            )
        command = [
            find_binary("temporal"),
            "server",
            "start-dev",
            "--db-filename",
            str(self.layout.database),
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--ui-port",
            str(self.ports.temporal_ui),
            "--log-level",
            "warn",
        ]
        for key in ALL_KEYS:
            command += ["--search-attribute", f"{key.name}=Keyword"]
        log_file = self.layout.logs / "temporal.log"
        pid = _spawn(command, log_file, dict(os.environ))
        _wait_for_port(port, pid, "the Temporal dev server", log_file, timeout=60)
        _wait_for_frontend(self.ports.temporal_address, pid, log_file, timeout=60)
        info.pids["temporal"] = pid
        info.temporal = {
            "address": self.ports.temporal_address,
            "ui": f"http://127.0.0.1:{self.ports.temporal_ui}",
        }

    def _start_sandbox(self, info: StackInfo, env: dict[str, str]) -> None:
        if pid_alive(info.pids.get("sandbox")):
            return
        log_file = self.layout.logs / "sandbox.log"
        ready_file = self.layout.home / "sandbox.json"
        ready_file.unlink(missing_ok=True)
        pid = _spawn(
            _selfheal_command("sandbox", "serve", "--ready-file", str(ready_file)), log_file, env
        )
        deadline = time.monotonic() + 60
        while not ready_file.exists():
            if not pid_alive(pid) or time.monotonic() > deadline:
                tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
                raise StackError(f"the sandbox did not start; last log lines:\n{tail}")
            time.sleep(0.1)
        ready: dict[str, dict[str, str]] = json.loads(ready_file.read_text())
        info.pids["sandbox"] = pid
        info.kubernetes = ready["kubernetes"]
        info.github = ready.get("github", {})
        info.jira = ready.get("jira", {})
        info.slack = ready.get("slack", {})

    def _start_worker(self, info: StackInfo, env: dict[str, str]) -> None:
        if pid_alive(info.pids.get("worker")):
            return
        info.pids["worker"] = _spawn(
            _selfheal_command("worker"), self.layout.logs / "worker.log", env
        )

    def _start_webhook(self, info: StackInfo, env: dict[str, str]) -> None:
        port = self.ports.webhook
        if pid_alive(info.pids.get("webhook")) and port_open(port):
            return
        log_file = self.layout.logs / "webhook.log"
        pid = _spawn(_selfheal_command("webhook"), log_file, env)
        _wait_for_port(port, pid, "the webhook", log_file, timeout=30)
        info.pids["webhook"] = pid
        info.webhook = {"url": f"http://127.0.0.1:{port}"}

    def restart_sandbox(self, env: dict[str, str]) -> StackInfo:
        """Start the sandbox afresh (its state is in memory) under a running stack."""
        info = StackInfo.read(self.layout.stack_file)
        if info is None:
            raise StackError("no local stack is running")
        pid = info.pids.pop("sandbox", None)
        if pid and pid_alive(pid):
            _terminate(pid, 10)
        for port in (self.ports.kubernetes, self.ports.github, self.ports.jira, self.ports.slack):
            deadline = time.monotonic() + 10
            while port_open(port) and time.monotonic() < deadline:
                time.sleep(0.1)
        self._start_sandbox(
            info, {**os.environ, **env, **self.process_env(), **self.alerts_env(info)}
        )
        self.layout.stack_file.write_text(info.to_json())
        return info

    def down(self, timeout: float = 15.0) -> list[str]:
        """Stop every recorded process (SIGTERM, then SIGKILL); return what was stopped."""
        info = StackInfo.read(self.layout.stack_file)
        if info is None:
            return []
        stopped: list[str] = []
        # The worker and webhook first, so they finish their tasks while Temporal is up.
        for name in ("webhook", "worker", "prometheus", "alertmanager", "sandbox", "temporal"):
            pid = info.pids.get(name)
            if pid and pid_alive(pid):
                _terminate(pid, timeout)
                stopped.append(name)
        self.layout.stack_file.unlink(missing_ok=True)
        return stopped


def _exit_probe(pid: int) -> Callable[[], int | None]:
    """For a detached process, whose exit code is not ours to read: -1 once it is gone."""
    return lambda: None if pid_alive(pid) else -1


def _terminate(pid: int, timeout: float) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
