"""A whole local stack (dev server, sandbox, worker, webhook) on free ports, for e2e tests.

The processes are the real ones `selfheal up` starts; tests drive them over HTTP and gRPC
and may kill or restart any of them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from atlassian import Jira
from github import Auth, Github
from kubernetes import client as k8s
from kubernetes import config as kube_config
from temporalio.client import Client

from selfheal.connection import connect
from selfheal_lab.experiments.standins import StandIn
from selfheal_lab.local_stack import (
    LocalStack,
    StackInfo,
    StackPorts,
    pid_alive,
    stack_environment,
)

ROOT = Path(__file__).resolve().parents[2]

E2E_SETTINGS = {
    "SELFHEAL_NAMESPACES": "demo",
    "SELFHEAL_VERIFY_WINDOW": "3s",
    "SELFHEAL_PR_POLL_INTERVAL": "5s",
    "SELFHEAL_DEPLOY_TIMEOUT": "90s",
    # Alerts a test posts by hand are never resolved by the monitor; do not wait long for them.
    "SELFHEAL_ALERT_CLEAR_TIMEOUT": "20s",
    # The e2e tests break and fix the same three demo workloads many times within minutes.
    "SELFHEAL_REMEDIATION_LIMIT": "100",
}


@dataclass
class RunningStack:
    """A started stack and what a test needs to talk to it."""

    stack: LocalStack
    info: StackInfo
    env: dict[str, str] = field(default_factory=dict)
    prometheus: bool = False
    """Whether real Prometheus and Alertmanager raise the alerts (else the sandbox's monitor)."""

    @property
    def ports(self) -> StackPorts:
        return self.stack.ports

    async def client(self) -> Client:
        """A Temporal client for this stack's dev server."""
        return await connect(target_host=self.ports.temporal_address)

    def kubernetes(self) -> k8s.ApiClient:
        """The official client for the sandbox cluster."""
        return kube_config.new_client_from_config(config_file=self.info.kubernetes["kubeconfig"])

    def github(self, token: str = "e2e-developer") -> Github:
        """PyGithub for the sandbox GitHub (any token is a user there)."""
        return Github(base_url=self.info.github["url"], auth=Auth.Token(token))

    def github_as(self, login: str) -> Github:
        """PyGithub for the sandbox GitHub signed in as `login` (a person, not the bot)."""
        return Github(base_url=self.info.github["url"], auth=Auth.Login(login, "sandbox"))

    def jira(self, user: str = "e2e-observer") -> Jira:
        """atlassian-python-api's client for the sandbox JIRA."""
        return Jira(url=self.info.jira["url"], username=user, password="sandbox")

    def standin(self, name: str) -> StandIn:
        """The control routes (faults, request counts) of `kubernetes`, `github` or `jira`."""
        urls = {
            "kubernetes": self.info.kubernetes["url"],
            "github": self.info.github["url"],
            "jira": self.info.jira["url"],
        }
        return StandIn(name, urls[name])

    def stop_part(self, part: str, timeout: float = 15) -> None:
        """Stop one process of the stack (`webhook`, `worker`, `sandbox`) by its recorded pid."""
        self.info = StackInfo.read(self.stack.layout.stack_file) or self.info  # `demo` restarts
        pid = self.info.pids[part]
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(pid):
            if time.monotonic() > deadline:
                os.killpg(pid, signal.SIGKILL)
            time.sleep(0.1)

    def start_missing(self) -> None:
        """Start again every part that is not running, on the same ports."""
        self.info = self.stack.up(
            with_sandbox=True, with_webhook=True, env=self.env, prometheus=self.prometheus
        )

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run `selfheal ARGS` against this stack."""
        environ = {
            **os.environ,
            **self.env,
            **self.ports.env(),
            "SELFHEAL_HOME": str(self.stack.layout.home),
        }
        return subprocess.run(
            [sys.executable, "-m", "selfheal", *args],
            env=environ,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )


def start_stack(home: Path, prometheus: bool = False, **settings: str) -> RunningStack:
    """Start every part on free ports under `home`; settings override E2E_SETTINGS.

    The sandbox's own monitor raises the alerts unless `prometheus`: then real Prometheus
    and Alertmanager do (missing, the start fails with the command that installs them).
    """
    stack = LocalStack(home, StackPorts.free())
    env = stack_environment(stack.layout.env_file, with_sandbox=True)
    env |= {**E2E_SETTINGS, **settings}
    try:
        info = stack.up(with_sandbox=True, with_webhook=True, env=env, prometheus=prometheus)
    except BaseException:
        stack.down()
        raise
    return RunningStack(stack, info, env, prometheus)
