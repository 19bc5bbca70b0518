"""The Prometheus activity: a workload's recent memory, CPU, throttling and restarts, read
as evidence for the analysis (and kept in snapshots as `metrics/workload.json`)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from itertools import pairwise

from pydantic import BaseModel, Field, field_validator

from selfheal.contracts.spec import BEST_EFFORT, ActivityCall
from selfheal.model.alerts import WORKLOAD_KINDS

MAX_POINTS = 120
"""Samples per series at most: a window of an hour is read a minute apart (61 samples)."""
MAX_CONTAINERS = 10
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
"""What namespace, workload, pod and container names look like; nothing else enters PromQL."""

Point = tuple[float, float]
"""One sample: unix seconds, value."""


class MetricsRequest(BaseModel):
    """Whose metrics to read, over which window."""

    incident_id: str
    cluster: str = Field(default="", description="Empty: the worker's own cluster")
    namespace: str
    workload: str
    kind: str = Field(
        default="Deployment", description="The workload's kind: " + ", ".join(WORKLOAD_KINDS)
    )
    pods: list[str] = Field(
        default_factory=list,
        max_length=500,
        description="The workload's pods now; pods its kind's naming matches count too "
        "(replaced ones, within the window)",
    )
    containers: list[str] = Field(
        default_factory=list, description="Which containers; empty: every one"
    )
    window: timedelta | None = Field(
        default=None,
        ge=timedelta(seconds=10),
        le=timedelta(hours=6),
        description="How far back; None: SELFHEAL_METRICS_WINDOW",
    )
    rate_window: timedelta | None = Field(
        default=None,
        ge=timedelta(seconds=2),
        description="The range of rate() and increase(), at least two scrape intervals; "
        "None: a sixth of the window, at most 5m",
    )

    @field_validator("namespace", "workload")
    @classmethod
    def _is_a_name(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError(f"{name!r} is not a Kubernetes name")
        return name

    @field_validator("pods", "containers")
    @classmethod
    def _are_names(cls, names: list[str]) -> list[str]:
        for name in names:
            cls._is_a_name(name)
        return names


class ContainerMetrics(BaseModel):
    """One container of the workload over the window, the worst of its pods at each step.

    Each series is samples `[unix seconds, value]`, oldest first, at the window's step; a
    step where nothing was scraped has no sample. Memory in bytes, CPU in cores.
    """

    container: str
    memory_working_set_bytes: list[Point] = Field(default_factory=list)
    memory_limit_bytes: list[Point] = Field(default_factory=list)
    cpu_usage_cores: list[Point] = Field(default_factory=list)
    cpu_limit_cores: list[Point] = Field(default_factory=list)
    cpu_throttled_ratio: list[Point] = Field(
        default_factory=list, description="Throttled CFS periods over all periods, 0 to 1"
    )
    restarts: list[Point] = Field(
        default_factory=list, description="Restarts so far, summed over the pods"
    )

    def memory_peak_of_limit(self) -> float | None:
        """The highest working set as a share of the limit, if both were read."""
        limit = latest(self.memory_limit_bytes)
        peak = highest(self.memory_working_set_bytes)
        return peak / limit if limit and peak is not None else None

    def cpu_usage_of_limit(self) -> float | None:
        """The highest CPU use as a share of the limit, if both were read."""
        limit = latest(self.cpu_limit_cores)
        peak = highest(self.cpu_usage_cores)
        return peak / limit if limit and peak is not None else None

    def restarts_in_window(self) -> int:
        """How many restarts the window saw (the counter's rises; a pod's removal is no rise)."""
        values = [value for _, value in self.restarts]
        return int(sum(max(b - a, 0.0) for a, b in pairwise(values)))


class WorkloadMetrics(BaseModel):
    """The workload's metrics over the window, or why there are none (`note`)."""

    source: str = Field(default="", description="The Prometheus read; empty: none")
    note: str = Field(default="", description="Why nothing (or not everything) was read")
    start: datetime | None = None
    end: datetime | None = None
    step_seconds: float = 0.0
    containers: list[ContainerMetrics] = Field(default_factory=list)

    def container(self, name: str) -> ContainerMetrics | None:
        return next((c for c in self.containers if c.container == name), None)

    def longest_series(self) -> int:
        """The most samples any one series has."""
        return max((len(getattr(c, name)) for c in self.containers for name in SERIES), default=0)

    def thinned(self) -> WorkloadMetrics:
        """The same window with every other sample dropped, the newest kept (for the
        context's size bound)."""
        containers = [
            c.model_copy(update={name: getattr(c, name)[::-2][::-1] for name in SERIES})
            for c in self.containers
        ]
        return self.model_copy(
            update={"containers": containers, "step_seconds": self.step_seconds * 2}
        )


SERIES = tuple(name for name in ContainerMetrics.model_fields if name != "container")
"""The series fields of ContainerMetrics."""


def latest(points: list[Point]) -> float | None:
    """The newest value of a series, if it has any."""
    return points[-1][1] if points else None


def highest(points: list[Point]) -> float | None:
    """The highest value of a series, if it has any."""
    return max((value for _, value in points), default=None)


GATHER_METRICS = ActivityCall(
    "gather_metrics", WorkloadMetrics, timedelta(seconds=60), retry=BEST_EFFORT
)
"""Evidence, not a step the incident needs: a short retry, then the analysis goes without."""


class SymptomRequest(BaseModel):
    """Does the condition of the alerts that paged still hold for this workload?"""

    incident_id: str
    cluster: str = Field(default="", description="Empty: the worker's own cluster")
    namespace: str
    workload: str
    kind: str = Field(
        default="Deployment", description="The workload's kind: " + ", ".join(WORKLOAD_KINDS)
    )
    alert_names: list[str] = Field(description="The distinct names of the alerts that paged")
    window: timedelta = Field(description="How long the condition must stay clear")
    wait: timedelta = Field(description="How long to wait for it to start clearing")


class SymptomReport(BaseModel):
    """What the alerts' own conditions say after the fix."""

    checked: bool = Field(description="False: nothing could be asked (said in `message`)")
    holds: bool = Field(default=False, description="An alert's condition still holds")
    failed: bool = Field(
        default=False,
        description="Monitoring was set but did not answer (unchecked, unlike not configured)",
    )
    message: str


SYMPTOM_NOT_CHECKED = (
    "the alert's own condition was not checked: no Prometheus (PROMETHEUS_URL) or "
    "Alertmanager (ALERTMANAGER_URL) is set"
)
"""What verification says when there is nothing to ask."""

SYMPTOM_UNCHECKABLE = "the alert's own condition could not be checked"
"""How verification begins when Prometheus or Alertmanager did not answer."""

CHECK_SYMPTOM = ActivityCall("check_symptom", SymptomReport, timedelta(minutes=30))
"""Verification by the symptom: the workflow gives it `wait + window` and a margin."""
