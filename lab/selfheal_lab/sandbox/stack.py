"""`selfheal sandbox serve`: every stand-in of the local stack in one process.

Kubernetes API (with its simulated kubelet and the demo app), GitHub with the demo
manifest repository, JIRA, Slack (its clicks signed and posted to the webhook), the GitOps
sync from the repository's main branch to the cluster, and the alert monitor posting
Alertmanager webhooks to selfheal (unless real Prometheus and Alertmanager watch the
sandbox instead: `alert_monitor=False`).
"""

from __future__ import annotations

import json
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

import structlog

from selfheal_lab.sandbox.github import DEMO_REPO, GitHubSandbox
from selfheal_lab.sandbox.gitops import GitOpsSync, kube_client
from selfheal_lab.sandbox.jira import JiraSandbox
from selfheal_lab.sandbox.kube.sandbox import KubeSandbox
from selfheal_lab.sandbox.monitor import AlertMonitor
from selfheal_lab.sandbox.slack import SlackSandbox

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SandboxPorts:
    kubernetes: int = 8441
    github: int = 8442
    jira: int = 8443
    slack: int = 8444


class SandboxStack:
    """Starts and stops the stand-ins together."""

    def __init__(
        self,
        home: Path,
        webhook_url: str,
        webhook_token: str | None,
        github_webhook_secret: str | None,
        slack_signing_secret: str | None = None,
        ports: SandboxPorts | None = None,
        monitor_interval: float = 2.0,
        cluster: str = "sandbox",
        alert_monitor: bool = True,
    ) -> None:
        self.home = home
        self.cluster = cluster
        self.ports = ports or SandboxPorts()
        self.kube = KubeSandbox(port=self.ports.kubernetes)
        self.github = GitHubSandbox(
            DEMO_REPO,
            webhook_url=f"{webhook_url.rstrip('/')}/webhooks/github",
            webhook_secret=github_webhook_secret,
        )
        self.jira = JiraSandbox(project="OPS")
        self.slack = SlackSandbox(
            interactions_url=f"{webhook_url.rstrip('/')}/webhooks/slack/interactions",
            signing_secret=slack_signing_secret,
        )
        self._webhook_url = webhook_url
        self._webhook_token = webhook_token
        self._monitor_interval = monitor_interval
        self._alert_monitor = alert_monitor
        self.sync: GitOpsSync | None = None
        self.monitor: AlertMonitor | None = None

    @property
    def kubeconfig(self) -> Path:
        return self.home / "kubeconfig"

    def start(self) -> dict[str, dict[str, str]]:
        """Start everything; return the URLs for stack.json."""
        kube_url = self.kube.start()
        self.kube.write_kubeconfig(self.kubeconfig)
        github_url = self.github.start(port=self.ports.github)
        jira_url = self.jira.start(port=self.ports.jira)
        slack_url = self.slack.start(port=self.ports.slack)
        self.sync = GitOpsSync(
            self.github.history, kube_client(kubeconfig=self.kubeconfig), interval=1.0
        )
        self.sync.start()
        if self._alert_monitor:
            self.monitor = AlertMonitor(
                kube_client(kubeconfig=self.kubeconfig),
                self._webhook_url,
                self._webhook_token,
                cluster=self.cluster,
                interval=self._monitor_interval,
            )
            self.monitor.start()
        return {
            "kubernetes": {"url": kube_url, "kubeconfig": str(self.kubeconfig)},
            "github": {"url": github_url, "repo": DEMO_REPO},
            "jira": {"url": jira_url},
            "slack": {
                "url": slack_url,
                "api_url": self.slack.api_url,
                "token": self.slack.token,
                "channel": self.slack.channel,
            },
        }

    def stop(self) -> None:
        """Stop in reverse order."""
        for part in (self.monitor, self.sync):
            if part is not None:
                part.stop()
        self.slack.stop()
        self.jira.stop()
        self.github.stop()
        self.kube.stop()


def serve(stack: SandboxStack, ready_file: Path | None) -> None:
    """Run the sandbox until SIGTERM or SIGINT; write `ready_file` once it serves."""
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    urls = stack.start()
    if ready_file is not None:
        # Written aside and renamed: `selfheal up` polls for the file and must never read it
        # half-written.
        partial = ready_file.with_name(ready_file.name + ".partial")
        partial.write_text(json.dumps(urls, indent=2))
        partial.replace(ready_file)
    log.info("sandbox serving", **{name: part["url"] for name, part in urls.items()})
    stopping.wait()
    stack.stop()
