"""Alerts as selfheal reads them, whatever sent them, and the workload each is about."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from selfheal.model.policy import RemediationMode

MODE_LABEL = "selfheal_mode"
"""Alert label that overrides the remediation mode for one incident."""


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class AlertSource(StrEnum):
    ALERTMANAGER = "alertmanager"
    PAGERDUTY = "pagerduty"
    JIRA = "jira"
    GENERIC = "generic"


RESOLVING_SOURCES = frozenset({AlertSource.ALERTMANAGER, AlertSource.PAGERDUTY})
"""Senders that always say when an alert has resolved: their alerts are waited for."""


def _slug(text: str, limit: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].strip("-") or "unknown"


class WorkloadRef(BaseModel):
    """One workload on one cluster: what an incident is about, whatever alerts name it."""

    model_config = ConfigDict(frozen=True)

    cluster: str
    namespace: str = ""
    kind: str = "Deployment"
    name: str

    @property
    def key(self) -> str:
        """`cluster/namespace/kind/name`: the workload's identity."""
        return "/".join([self.cluster, self.namespace, self.kind, self.name])

    @property
    def digest(self) -> str:
        """Hex digest of the identity, for ids that must stay short and lower case."""
        return hashlib.sha256(self.key.encode()).hexdigest()

    @property
    def workflow_id(self) -> str:
        """`workload-<name>-<8 hex>`: the id of the workload's WorkloadWorkflow."""
        return f"workload-{_slug(self.name, 60)}-{self.digest[:8]}"

    def incident_id(self, run_id: str, sequence: int) -> str:
        """`inc-<name>-<8 hex>`: the id of the `sequence`-th incident that the run `run_id` of
        the workload's workflow opens.

        Derived from the run, so an id is never reused, even after that workflow has ended
        and a later alert starts it afresh.
        """
        seed = f"{self.key}\x1f{run_id}\x1f{sequence}"
        return f"inc-{_slug(self.name, 60)}-{hashlib.sha256(seed.encode()).hexdigest()[:8]}"

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{where} on {self.cluster}"


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")
"""The kinds a workload (an alert's, a ClusterContext's top-level object) may be."""

DEFAULT_KIND = "Deployment"
"""The kind of an alert that names none: what every alert was before kinds were read."""

UNMAPPED_KIND = "Unmapped"
"""The kind of an alert that names no workload: it is an incident of its own alert name."""


class Alert(BaseModel):
    """One alert about one Kubernetes workload, from any source: selfheal's Alert JSON."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1, max_length=200, description="Alert name, e.g. KubePodCrashLooping"
    )
    source: AlertSource = AlertSource.GENERIC
    status: AlertStatus = AlertStatus.FIRING
    cluster: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The cluster it is about; unset: the worker's own (SELFHEAL_CLUSTER)",
    )
    namespace: str | None = Field(default=None, max_length=253)
    workload: str | None = Field(
        default=None, max_length=253, description="Workload name; None when the alert names none"
    )
    kind: str = Field(
        default=DEFAULT_KIND,
        description="The workload's kind: " + ", ".join(WORKLOAD_KINDS) + " (any case)",
        # A Deployment's alert serializes as before kinds were read, so workers not yet
        # upgraded (extra="forbid") still load it and delivery digests stay the same.
        exclude_if=lambda kind: kind == DEFAULT_KIND,
    )
    reason: str | None = Field(
        default=None, max_length=100, description="Short machine reason; defaults to the alert name"
    )
    severity: str = Field(default="warning", max_length=50)
    summary: str = Field(default="", max_length=4000)
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime | None = None
    external_id: str | None = Field(
        default=None, max_length=200, description="The sender's own id (PagerDuty incident, ...)"
    )
    ticket_key: str | None = Field(
        default=None, max_length=50, description="JIRA issue this alert came from, if any"
    )

    @field_validator("kind", mode="before")
    @classmethod
    def _known_kind(cls, value: object) -> object:
        return cls.known_kind(value)

    @staticmethod
    def known_kind(value: object) -> object:
        """A workload kind by its API name, whatever case the sender wrote it in."""
        if not isinstance(value, str):
            return value
        for kind in WORKLOAD_KINDS:
            if kind.lower() == value.strip().lower():
                return kind
        raise ValueError(f"kind must be one of {', '.join(WORKLOAD_KINDS)}, not {value!r}")

    def on_cluster(self, default_cluster: str) -> Alert:
        """This alert with its cluster filled in: an alert naming none is about the default."""
        return self if self.cluster else self.model_copy(update={"cluster": default_cluster})

    @property
    def target(self) -> WorkloadRef:
        """The workload the alert is about; an unmapped alert is a target of its own name."""
        cluster = self.cluster or "default"
        if self.workload and self.namespace:
            return WorkloadRef(
                cluster=cluster, namespace=self.namespace, kind=self.kind, name=self.workload
            )
        return WorkloadRef(
            cluster=cluster,
            namespace=self.namespace or "",
            kind=UNMAPPED_KIND,
            name=f"unmapped-{self.name}",
        )

    @property
    def key(self) -> str:
        """Which alert this is, so its resolved notice finds its firing one: the sender's id
        (Alertmanager fingerprint, PagerDuty incident) or else its name."""
        return f"{self.source.value}:{self.external_id or self.name}"

    @property
    def requested_mode(self) -> RemediationMode | None:
        """The mode named by the `selfheal_mode` label, if it names a valid one."""
        value = self.labels.get(MODE_LABEL, "").strip().lower()
        try:
            return RemediationMode(value) if value else None
        except ValueError:
            return None


class AlertTrack(BaseModel):
    """One distinct alert of an incident: what it is called, who sent it, does it still fire."""

    name: str
    source: AlertSource
    firing: bool
    count: int = Field(default=1, description="Notifications of it received")


class AlertBatch(BaseModel):
    """Alerts a workload passes on to its open incident in one signal (`alerts`).

    Repeats of one alert in a batch travel once; `count` says how many arrived in all.
    """

    alerts: list[Alert] = Field(min_length=1)
    count: int = Field(ge=1)
    delivery: str = Field(
        default="",
        description="Digest of the notification's part about this workload: a sender's retry "
        "of it (after a timeout or a 503) carries the same one, and counts once",
    )
