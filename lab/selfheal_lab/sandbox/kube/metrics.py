"""The sandbox cluster's metrics endpoints, for a real Prometheus to scrape.

    GET /metrics                   kube-state-metrics' series and cAdvisor's, together
    GET /metrics/kube-state        kube-state-metrics' only (scrape as job="kube-state-metrics")
    GET /metrics/cadvisor          cAdvisor's only (scrape as job="kubelet", as the kubelet's
                                   /metrics/cadvisor is)

The values follow the simulated cluster at the moment of the scrape (`kube_state.py`,
`cadvisor.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from selfheal_lab.sandbox.kube.cadvisor import cadvisor_families
from selfheal_lab.sandbox.kube.exposition import render
from selfheal_lab.sandbox.kube.kube_state import kube_state_families
from selfheal_lab.sandbox.kube.kubelet import Kubelet
from selfheal_lab.sandbox.kube.store import Store

SOURCES = ("kube-state", "cadvisor")


@dataclass
class ClusterMetrics:
    """Renders the exposition of the store's objects and the kubelet's containers."""

    store: Store
    kubelet: Kubelet

    def exposition(self, source: str = "") -> str:
        """The text of `source` (one of SOURCES), or of both when it is empty."""
        families = []
        if source in ("", "kube-state"):
            families += kube_state_families(self.store)
        if source in ("", "cadvisor"):
            families += cadvisor_families(self.kubelet)
        return render(families)
