"""The sandbox cluster's metrics endpoints, for a real Prometheus to scrape.

    GET /metrics                   kube-state-metrics' series and cAdvisor's, together
    GET /metrics/kube-state        kube-state-metrics' only (scrape as job="kube-state-metrics")
    GET /metrics/cadvisor          cAdvisor's only (scrape as job="kubelet", as the kubelet's
                                   /metrics/cadvisor is)
    GET /metrics/apps              the demo apps' own HTTP request counters (scrape as
                                   job="apps"; a real cluster scrapes each pod instead)

The values follow the simulated cluster at the moment of the scrape (`kube_state.py`,
`cadvisor.py`, `apps.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from selfheal_lab.sandbox.kube.apps import AppFaults, AppMetrics
from selfheal_lab.sandbox.kube.cadvisor import cadvisor_families
from selfheal_lab.sandbox.kube.exposition import render
from selfheal_lab.sandbox.kube.kube_state import kube_state_families
from selfheal_lab.sandbox.kube.kubelet import Kubelet
from selfheal_lab.sandbox.kube.store import Store

SOURCES = ("kube-state", "cadvisor", "apps")


@dataclass
class ClusterMetrics:
    """Renders the exposition of the store's objects, the kubelet's containers and the apps
    they run (with `app_faults` in force)."""

    store: Store
    kubelet: Kubelet
    app_faults: AppFaults = field(default_factory=AppFaults)

    def __post_init__(self) -> None:
        self.apps = AppMetrics(self.kubelet, self.app_faults)

    def exposition(self, source: str = "") -> str:
        """The text of `source` (one of SOURCES), or of kube-state and cadvisor when empty."""
        families = []
        if source in ("", "kube-state"):
            families += kube_state_families(self.store)
        if source in ("", "cadvisor"):
            families += cadvisor_families(self.kubelet)
        if source == "apps":
            families += self.apps.families()
        return render(families)
