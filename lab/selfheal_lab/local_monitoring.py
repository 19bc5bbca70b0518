"""The local stack's alerting: real Prometheus and Alertmanager when they are installed.

Prometheus scrapes the sandbox's kube-state-metrics, cAdvisor and app series with
selfheal's own rules (`alert_rules`), and Alertmanager sends what fires to the webhook with
the bearer token, as on a cluster monitored by kube-prometheus. Where the Debian packages
are missing, the sandbox's own alert monitor stands in (`selfheal up` says which runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from selfheal_lab.alert_rules import alert_rules
from selfheal_lab.monitoring import (
    ALERTMANAGER,
    INSTALL_COMMAND,
    PROMETHEUS,
    AlertmanagerServer,
    PrometheusServer,
    find_tool,
    sandbox_targets,
)

SCRAPE_INTERVAL = "2s"
LOCAL_RULES = {"hold": "10s", "interval": SCRAPE_INTERVAL, "window": "30s", "long_window": "1m"}
"""The sandbox's pods fail and heal in seconds, so its alerts need not hold for upstream's
fifteen minutes, nor look back over its five and ten (a replaced pod's alert would linger)."""

PROMETHEUS_SOURCE = "prometheus"
MONITOR_SOURCE = "sandbox-monitor"


def missing_monitoring() -> str | None:
    """Why the real Prometheus and Alertmanager cannot run here, or None when they can."""
    try:
        find_tool(PROMETHEUS)
        find_tool(ALERTMANAGER)
    except FileNotFoundError as missing:
        return str(missing)
    return None


def install_hint() -> str:
    """The command that installs the real ones (Debian)."""
    return f"sudo {INSTALL_COMMAND}"


@dataclass(frozen=True)
class LocalAlerting:
    """The two servers of the local stack's alerting, configured for one stack."""

    home: Path
    prometheus_port: int
    alertmanager_port: int
    sandbox_address: str
    webhook_url: str
    webhook_token: str
    cluster: str

    def alertmanager(self) -> AlertmanagerServer:
        """Alertmanager routing every alert to the webhook's Alertmanager route."""
        return AlertmanagerServer(
            self.home / "alertmanager",
            port=self.alertmanager_port,
            webhook_url=f"{self.webhook_url.rstrip('/')}/webhooks/alertmanager",
            webhook_token=self.webhook_token,
        )

    def prometheus(self) -> PrometheusServer:
        """Prometheus scraping the sandbox, evaluating selfheal's rules, alerting through
        the stack's Alertmanager; its alerts carry the cluster's name."""
        return PrometheusServer(
            self.home / "prometheus",
            port=self.prometheus_port,
            targets=sandbox_targets(self.sandbox_address),
            rules=alert_rules(**LOCAL_RULES),
            alertmanager=f"http://127.0.0.1:{self.alertmanager_port}",
            interval=SCRAPE_INTERVAL,
            external_labels={"cluster": self.cluster},
        )
