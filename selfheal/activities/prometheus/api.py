"""The JSON Prometheus and Alertmanager answer with, as pydantic models.

Prometheus wraps every answer in `{"status", "data", "errorType", "error", "warnings"}`
(docs/querying/api.md); sample values travel as strings ("1e+00", "NaN", "+Inf") and are
read here as floats. Alertmanager's `/api/v2/alerts` is a bare list (api/v2/openapi.yaml).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Open(BaseModel):
    """Fields this client does not read are kept out, not refused: newer servers add some."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Envelope(_Open):
    """Every Prometheus answer, success or error."""

    status: Literal["success", "error"]
    data: Any = None
    error_type: str = Field(default="", alias="errorType")
    error: str = ""
    warnings: list[str] = Field(default_factory=list)


Point = tuple[float, float]
"""One sample: unix seconds, value."""


def _point(raw: Any) -> Point:
    timestamp, value = raw
    return float(timestamp), float(value)


class VectorSample(_Open):
    """One series of an instant query: its labels and its value at the query's time."""

    metric: dict[str, str] = Field(default_factory=dict)
    value: Point

    @field_validator("value", mode="before")
    @classmethod
    def _parse(cls, raw: Any) -> Point:
        return _point(raw)


class RangeSeries(_Open):
    """One series of a range query: its labels and its samples, oldest first."""

    metric: dict[str, str] = Field(default_factory=dict)
    values: list[Point] = Field(default_factory=list)

    @field_validator("values", mode="before")
    @classmethod
    def _parse(cls, raw: Any) -> list[Point]:
        return [_point(item) for item in raw or []]


class QueryData(_Open):
    """`data` of /api/v1/query: a vector (list of samples) or a scalar ([time, value])."""

    result_type: Literal["vector", "scalar", "string", "matrix"] = Field(alias="resultType")
    result: Any

    def samples(self) -> list[VectorSample]:
        """The answer as samples; a scalar is one sample without labels."""
        if self.result_type == "vector":
            return [VectorSample.model_validate(item) for item in self.result or []]
        if self.result_type == "scalar":
            return [VectorSample(value=_point(self.result))]
        raise ValueError(f"an instant query answered a {self.result_type}")


class RangeData(_Open):
    """`data` of /api/v1/query_range: always a matrix."""

    result_type: Literal["matrix"] = Field(alias="resultType")
    result: list[RangeSeries] = Field(default_factory=list)


class RuleAlert(_Open):
    """An alert a rule holds now (pending or firing), its annotations rendered."""

    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    state: str
    active_at: datetime | None = Field(default=None, alias="activeAt")
    value: str = ""


class Rule(_Open):
    """An alerting or recording rule as /api/v1/rules shows it.

    `query` is Prometheus' re-printed form of the expression; `duration` is the alert's
    `for`, in seconds. Recording rules have no state and no alerts.
    """

    type: Literal["alerting", "recording"]
    name: str
    query: str
    duration: float = 0.0
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    state: str = ""
    health: str = ""
    alerts: list[RuleAlert] = Field(default_factory=list)


class RuleGroup(_Open):
    name: str
    file: str = ""
    interval: float = 0.0
    rules: list[Rule] = Field(default_factory=list)


class RulesData(_Open):
    groups: list[RuleGroup] = Field(default_factory=list)


class AlertStatus(_Open):
    state: Literal["unprocessed", "active", "suppressed"]
    silenced_by: list[str] = Field(default_factory=list, alias="silencedBy")
    inhibited_by: list[str] = Field(default_factory=list, alias="inhibitedBy")


class Receiver(_Open):
    name: str


class AlertmanagerAlert(_Open):
    """One alert as Alertmanager's `GET /api/v2/alerts` lists it."""

    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime = Field(alias="endsAt")
    updated_at: datetime = Field(alias="updatedAt")
    fingerprint: str
    generator_url: str = Field(default="", alias="generatorURL")
    status: AlertStatus
    receivers: list[Receiver] = Field(default_factory=list)
