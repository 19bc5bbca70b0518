"""A private local stack for one experiment: the real processes of `selfheal up`, on free ports.

Experiments break the stack itself (kill the worker, stop the Temporal server, make a
stand-in fail), so each starts its own under a temporary home and never touches the
stack a user runs with `selfheal up`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from atlassian import Jira
from github import Auth, Github
from github.Repository import Repository
from kubernetes import client as k8s
from kubernetes import config as kube_config
from temporalio.client import Client

from selfheal.connection import connect
from selfheal_lab.experiments.standins import StandIn
from selfheal_lab.local_stack import LocalStack, StackInfo, StackPorts, pid_alive, stack_environment

EXPERIMENT_SETTINGS = {
    "SELFHEAL_NAMESPACES": "demo",
    "SELFHEAL_VERIFY_WINDOW": "3s",
    "SELFHEAL_PR_POLL_INTERVAL": "5s",
    "SELFHEAL_DEPLOY_TIMEOUT": "120s",
    # Experiments fix the same demo workloads many times in a row; the anti-loop limit
    # (a guardrail with its own tests) would otherwise end them as escalations.
    "SELFHEAL_REMEDIATION_LIMIT": "1000",
    "SELFHEAL_METRICS_PORT": "0",
    "SELFHEAL_LOG_FORMAT": "json",
}


class ExperimentStack:
    """One running private stack and the clients an experiment needs to observe it."""

    def __init__(
        self, home: Path, settings: dict[str, str], ports: StackPorts, prometheus: bool = False
    ) -> None:
        self.stack = LocalStack(home, ports)
        self.prometheus = prometheus
        self.env = stack_environment(self.stack.layout.env_file, with_sandbox=True)
        self.env |= settings
        self.info = StackInfo()

    @property
    def ports(self) -> StackPorts:
        return self.stack.ports

    @property
    def webhook_url(self) -> str:
        return self.info.webhook["url"]

    @property
    def webhook_token(self) -> str:
        return self.env["SELFHEAL_WEBHOOK_TOKEN"]

    def up(self) -> StackInfo:
        """Start every part that is not running (all of them the first time); the alerts
        come from the sandbox's monitor unless the stack was made with `prometheus`."""
        self.info = self.stack.up(
            with_sandbox=True, with_webhook=True, env=self.env, prometheus=self.prometheus
        )
        return self.info

    def down(self) -> None:
        self.stack.down()

    async def client(self) -> Client:
        """A Temporal client for this stack's dev server."""
        return await connect(target_host=self.ports.temporal_address)

    def kubernetes(self) -> k8s.ApiClient:
        """The official Kubernetes client for the sandbox cluster."""
        return kube_config.new_client_from_config(config_file=self.info.kubernetes["kubeconfig"])

    def repository(self) -> Repository:
        """The sandbox manifest repository through PyGithub, as a developer sees it."""
        github = Github(base_url=self.info.github["url"], auth=Auth.Token("chaos-observer"))
        return github.get_repo(self.info.github["repo"])

    def jira(self) -> Jira:
        """atlassian-python-api's client for the sandbox JIRA."""
        return Jira(url=self.info.jira["url"], username="chaos-observer", password="sandbox")

    def standin(self, name: str) -> StandIn:
        """The control routes of one stand-in: `kubernetes`, `github` or `jira`."""
        urls = {
            "kubernetes": self.info.kubernetes["url"],
            "github": self.info.github["url"],
            "jira": self.info.jira["url"],
        }
        return StandIn(name, urls[name])

    def pid(self, part: str) -> int:
        return self.info.pids[part]

    def kill(self, part: str, signum: int = signal.SIGKILL, timeout: float = 30) -> None:
        """Send `signum` to a part's process group and wait until it is gone."""
        pid = self.info.pids.get(part)
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signum)
        deadline = time.monotonic() + timeout
        while pid_alive(pid):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the {part} (pid {pid}) did not exit after signal {signum}")
            time.sleep(0.05)

    def log(self, part: str) -> Path:
        return self.stack.layout.logs / f"{part}.log"


@contextlib.contextmanager
def private_stack(
    settings: dict[str, str] | None = None,
    home: Path | None = None,
    keep: bool = False,
    prometheus: bool = False,
) -> Iterator[ExperimentStack]:
    """Start a whole stack on free ports under `home` (a temporary one by default); stop it after.

    `settings` override EXPERIMENT_SETTINGS; with `keep` the home (logs, database) stays;
    with `prometheus` real Prometheus and Alertmanager raise the alerts.
    """
    owned = home is None
    home = home or Path(tempfile.mkdtemp(prefix="selfheal-chaos-"))
    stack = ExperimentStack(
        home, {**EXPERIMENT_SETTINGS, **(settings or {})}, StackPorts.free(), prometheus
    )
    try:
        stack.up()
        yield stack
    finally:
        stack.down()
        if owned and not keep:
            shutil.rmtree(home, ignore_errors=True)
