"""The Prometheus activity: the workload's metrics as evidence.

Built once in the worker around one client (or none, with PROMETHEUS_URL unset, which is
said in the answer, never an error). The client blocks, so this is a sync activity on the
worker's thread pool. Reading is idempotent: a retry reads the same window again.
"""

from __future__ import annotations

from selfheal.activities.pause import pause
from selfheal.activities.prometheus.client import NOT_CONFIGURED, clients_from, now
from selfheal.activities.prometheus.errors import MetricsApiError, metrics_call
from selfheal.activities.prometheus.evidence import read_workload_metrics
from selfheal.activities.prometheus.symptom import SymptomCheck, watch_symptom
from selfheal.contracts.prometheus import (
    CHECK_SYMPTOM,
    GATHER_METRICS,
    MetricsRequest,
    SymptomReport,
    SymptomRequest,
    WorkloadMetrics,
)
from selfheal.contracts.spec import implements
from selfheal.settings import Settings

__all__ = ["NOT_CONFIGURED", "MetricsActivities"]


class MetricsActivities:
    """Reads from the Prometheus at PROMETHEUS_URL."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        clients = clients_from(settings)
        self._prometheus = clients.prometheus
        self._alertmanager = clients.alertmanager

    @implements(GATHER_METRICS)
    def gather_metrics(self, request: MetricsRequest) -> WorkloadMetrics:
        """Read the workload's memory, CPU, throttling and restarts over the window.

        A workload on another cluster than the worker's own is selected by its `cluster`
        label (one Prometheus holding every cluster's series, as with Thanos or Mimir).
        """
        if self._prometheus is None:
            return WorkloadMetrics(note=NOT_CONFIGURED)
        with metrics_call():
            return self._read(request)

    @implements(CHECK_SYMPTOM)
    def check_symptom(self, request: SymptomRequest) -> SymptomReport:
        """Wait for the conditions of the alerts that paged to clear for the workload and
        stay clear for the window; report them still holding after the wait."""
        own = request.cluster in ("", self._settings.cluster)
        asked = request.model_copy(update={"cluster": "" if own else request.cluster})
        check = SymptomCheck(self._prometheus, self._alertmanager)
        with metrics_call():
            return watch_symptom(check, asked, pause)

    def read(self, request: MetricsRequest) -> WorkloadMetrics | None:
        """The metrics for an analysis that runs in one step (analyze_workload): None with
        no Prometheus; a failure is the answer's `note`, never an error, since the analysis
        goes on without them."""
        if self._prometheus is None:
            return None
        try:
            return self._read(request)
        except MetricsApiError as failed:
            return WorkloadMetrics(source=self._prometheus.base_url, note=failed.message)

    def _read(self, request: MetricsRequest) -> WorkloadMetrics:
        assert self._prometheus is not None
        cluster = request.cluster if request.cluster not in ("", self._settings.cluster) else ""
        return read_workload_metrics(
            self._prometheus, request, self._settings.metrics_window, now(), cluster
        )
