"""The lab's settings: the product's, plus where the sandbox's stand-ins listen.

Read from the same environment and `.env` as the product's (`SELFHEAL_*`), so a process of
the local stack and the product agree on everything they share.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from selfheal.settings import Settings


class LabSettings(Settings):
    """Every setting the lab reads: the product's and the sandbox's ports (`selfheal up`)."""

    sandbox_kubernetes_port: int = 8441
    sandbox_github_port: int = 8442
    sandbox_jira_port: int = 8443
    sandbox_slack_port: int = 8444
    sandbox_prometheus_port: int = 8445
    sandbox_alertmanager_port: int = 8446
    sandbox_alert_monitor: bool = Field(
        default=True,
        description="Whether the sandbox's own alert monitor posts alerts; `selfheal up` "
        "turns it off when it runs the real Prometheus and Alertmanager",
    )


def load_lab_settings(**overrides: Any) -> LabSettings:
    """Read the lab's settings from the environment (and `.env`), with overrides on top."""
    return LabSettings(**overrides)
