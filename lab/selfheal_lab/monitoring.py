"""Real Prometheus and Alertmanager (Debian's `prometheus`, `prometheus-alertmanager`) as
plain child processes on free ports, with generated configuration.

For the tests and the local stack: `PrometheusServer` scrapes the given targets every
second and evaluates the given rules every second, sending alerts to an Alertmanager;
`AlertmanagerServer` runs with clustering off. Where the binaries are missing, `find_tool`
raises with the command that installs them (a test needing them fails with it; none skips).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from selfheal_lab.sandbox.serving import free_port

INSTALL_COMMAND = "apt-get install -y --no-install-recommends prometheus prometheus-alertmanager"
PROMETHEUS = "prometheus"
ALERTMANAGER = "prometheus-alertmanager"
"""Debian's name for the alertmanager binary; upstream's is `alertmanager` (accepted too)."""


def find_tool(name: str) -> str:
    """Return the path of the Prometheus or Alertmanager binary; raise naming the install."""
    candidates = [name, "alertmanager"] if name == ALERTMANAGER else [name]
    for candidate in candidates:
        found = shutil.which(candidate) or (
            f"/usr/bin/{candidate}" if Path(f"/usr/bin/{candidate}").exists() else None
        )
        if found:
            return found
    raise FileNotFoundError(
        f"{name} not found: install Debian's packages with `sudo {INSTALL_COMMAND}` "
        "(`make test` does this when run as root on Debian)"
    )


@dataclass(frozen=True)
class ScrapeTarget:
    """One scrape job: Prometheus reads `http://{address}{metrics_path}` and labels it `job`
    (and `labels`)."""

    job: str
    address: str
    metrics_path: str = "/metrics"
    labels: dict[str, str] = field(default_factory=dict)


def sandbox_targets(address: str) -> list[ScrapeTarget]:
    """The sandbox cluster's sources (`host:port`) as kube-prometheus labels them, so
    kubernetes-mixin's selectors (`job="kube-state-metrics"`, `job="kubelet",
    metrics_path="/metrics/cadvisor"`) match; and the demo apps' own request counters as
    `job="apps"`."""
    return [
        ScrapeTarget("kube-state-metrics", address, "/metrics/kube-state"),
        ScrapeTarget(
            "kubelet", address, "/metrics/cadvisor", {"metrics_path": "/metrics/cadvisor"}
        ),
        ScrapeTarget("apps", address, "/metrics/apps"),
    ]


def wait_ready(
    url: str,
    exited: Callable[[], int | None],
    log: Path,
    timeout: float,
    auth: tuple[str, str] | None = None,
) -> None:
    """Poll `url`/-/ready until it answers 200; raise with the log's tail when the process
    has exited (`exited()` returns its code) or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (code := exited()) is not None:
            raise RuntimeError(f"{url} exited with {code}: {_tail(log)}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1.0, auth=auth).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} was not ready within {timeout:.0f}s: {_tail(log)}")


def _tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


@dataclass
class _Process:
    directory: Path
    host: str = "127.0.0.1"
    port: int = 0
    ready_auth: tuple[str, str] | None = None
    """What the readiness probe sends (a server behind basic auth)."""
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.directory / "server.log"

    def command(self) -> list[str]:
        """Write the configuration and return the command line that runs this server."""
        raise NotImplementedError

    def start(self, timeout: float = 30.0) -> str:
        """Start the server as a child of this process; return its URL once it is ready."""
        command = self.command()
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        wait_ready(self.url, self._process.poll, self.log_file, timeout, self.ready_auth)
        return self.url

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after `timeout`)."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None


@dataclass
class PrometheusServer(_Process):
    """Prometheus scraping `targets` every `interval`, with `rules` (a rules file's YAML)."""

    targets: list[ScrapeTarget] = field(default_factory=list)
    rules: str = ""
    alertmanager: str = ""
    interval: str = "1s"
    web_config: str = ""
    """A --web.config.file (e.g. basic_auth_users); `ready_auth` is what readiness sends."""
    external_labels: dict[str, str] = field(default_factory=dict)
    """Labels on every alert this Prometheus sends (e.g. the `cluster` it watches)."""

    def config(self) -> dict[str, object]:
        """The prometheus.yml this server runs with."""
        jobs: dict[str, list[ScrapeTarget]] = {}
        for target in self.targets:
            jobs.setdefault(f"{target.job}\0{target.metrics_path}", []).append(target)
        config: dict[str, object] = {
            "global": {
                "scrape_interval": self.interval,
                "evaluation_interval": self.interval,
                **({"external_labels": self.external_labels} if self.external_labels else {}),
            },
            "scrape_configs": [
                {
                    "job_name": group[0].job,
                    "metrics_path": group[0].metrics_path,
                    "static_configs": [
                        {
                            "targets": [target.address],
                            **({"labels": target.labels} if target.labels else {}),
                        }
                        for target in group
                    ],
                }
                for group in jobs.values()
            ],
        }
        if self.rules:
            config["rule_files"] = ["rules.yml"]
        if self.alertmanager:
            address = self.alertmanager.split("://", 1)[-1].rstrip("/")
            config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [address]}]}]}
        return config

    def command(self) -> list[str]:
        """Write prometheus.yml (and the rules and web config); return Prometheus' command."""
        binary = find_tool(PROMETHEUS)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port(self.host)
        config_file = self.directory / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(self.config(), sort_keys=False))
        if self.rules:
            (self.directory / "rules.yml").write_text(self.rules)
        command = [
            binary,
            f"--config.file={config_file}",
            f"--storage.tsdb.path={self.directory / 'data'}",
            f"--web.listen-address={self.host}:{self.port}",
            f"--web.external-url={self.url}",
            "--web.enable-lifecycle",
            # Resends keep an alert's endsAt near, so a resolution reaches Alertmanager fast.
            "--rules.alert.resend-delay=1s",
            "--log.level=warn",
        ]
        if self.web_config:
            web_file = self.directory / "web.yml"
            web_file.write_text(self.web_config)
            command.append(f"--web.config.file={web_file}")
        return command


@dataclass
class AlertmanagerServer(_Process):
    """Alertmanager with clustering off, routing every alert to `webhook_url` (if given)."""

    webhook_url: str = ""
    webhook_token: str = ""

    def config(self) -> dict[str, object]:
        """The alertmanager.yml this server runs with."""
        receiver: dict[str, object] = {"name": "selfheal"}
        if self.webhook_url:
            webhook: dict[str, object] = {"url": self.webhook_url, "send_resolved": True}
            if self.webhook_token:
                webhook["http_config"] = {
                    "authorization": {"type": "Bearer", "credentials": self.webhook_token}
                }
            receiver["webhook_configs"] = [webhook]
        return {
            "route": {
                "receiver": "selfheal",
                "group_by": ["alertname", "namespace"],
                "group_wait": "1s",
                "group_interval": "2s",
                "repeat_interval": "1h",
            },
            "receivers": [receiver],
        }

    def command(self) -> list[str]:
        """Write alertmanager.yml; return Alertmanager's command."""
        binary = find_tool(ALERTMANAGER)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port(self.host)
        config_file = self.directory / "alertmanager.yml"
        config_file.write_text(yaml.safe_dump(self.config(), sort_keys=False))
        command = [
            binary,
            f"--config.file={config_file}",
            f"--storage.path={self.directory / 'data'}",
            f"--web.listen-address={self.host}:{self.port}",
            f"--web.external-url={self.url}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]
        return command
