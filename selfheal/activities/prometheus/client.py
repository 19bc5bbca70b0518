"""A small typed client of Prometheus' and Alertmanager's HTTP APIs (httpx, blocking).

Only what selfheal reads: instant and range queries, the rules, Alertmanager's alerts.
Every request has a timeout; every failure is a `MetricsApiError` saying whether a retry
may help. `clients_from(settings)` builds them, or says they are not configured.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Self, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from selfheal.activities.prometheus.api import (
    AlertmanagerAlert,
    Envelope,
    QueryData,
    RangeData,
    RangeSeries,
    RuleGroup,
    RulesData,
    VectorSample,
)
from selfheal.activities.prometheus.errors import MetricsApiError, classify_status
from selfheal.settings import Settings

NOT_CONFIGURED = "Prometheus not configured (PROMETHEUS_URL unset): no metrics read"
ALERTMANAGER_NOT_CONFIGURED = "Alertmanager not configured (ALERTMANAGER_URL unset)"
MAX_RANGE_POINTS = 11_000
"""Prometheus refuses a range query of more points than this per series; ask for fewer."""

ModelT = TypeVar("ModelT", bound=BaseModel)
_ALERTS = TypeAdapter(list[AlertmanagerAlert])


def _timestamp(moment: datetime) -> str:
    return f"{moment.timestamp():.3f}"


def _retry_after(response: httpx.Response) -> timedelta | None:
    value = response.headers.get("retry-after", "")
    return timedelta(seconds=int(value)) if value.isdigit() else None


class _Api:
    """One server's HTTP API: base URL, auth, timeout, and the classification of failures."""

    service = ""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: timedelta = timedelta(seconds=15),
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout.total_seconds(),
            auth=auth,
            headers=dict(headers or {}),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, method: str, path: str, doing: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise MetricsApiError(
                self.service,
                "Unavailable",
                f"{self.service} at {self.base_url} did not answer {doing} in time: {exc!r}",
                retryable=True,
            ) from exc
        except httpx.HTTPError as exc:
            raise MetricsApiError(
                self.service,
                "Unavailable",
                f"cannot reach {self.service} at {self.base_url} to {doing}: {exc}",
                retryable=True,
            ) from exc

    def _bad_answer(self, doing: str, detail: str) -> MetricsApiError:
        return MetricsApiError(
            self.service,
            "BadAnswer",
            f"{self.service} at {self.base_url} answered {doing} with something that is not "
            f"its API's JSON ({detail}); is the URL right?",
            retryable=False,
        )


class PrometheusClient(_Api):
    """Prometheus' query and rules API (`/api/v1/...`)."""

    service = "Prometheus"

    def query(self, promql: str, at: datetime | None = None) -> list[VectorSample]:
        """Return the series of an instant query (a scalar is one sample without labels)."""
        form = {"query": promql, **({"time": _timestamp(at)} if at else {})}
        data = self._call("/api/v1/query", form, f"the query {promql}", QueryData)
        return data.samples()

    def query_range(
        self, promql: str, start: datetime, end: datetime, step: timedelta
    ) -> list[RangeSeries]:
        """Return the series of a range query, each with its samples from `start` to `end`."""
        seconds = step.total_seconds()
        if seconds <= 0:
            raise ValueError("step must be positive")
        if (end - start).total_seconds() / seconds > MAX_RANGE_POINTS:
            raise ValueError(f"more than {MAX_RANGE_POINTS} points per series: widen the step")
        form = {
            "query": promql,
            "start": _timestamp(start),
            "end": _timestamp(end),
            "step": f"{seconds:g}",
        }
        data = self._call("/api/v1/query_range", form, f"the range query {promql}", RangeData)
        return data.result

    def rules(self, kind: Literal["alert", "record"] | None = None) -> list[RuleGroup]:
        """Return the rule groups Prometheus evaluates, with each alert rule's state."""
        params: dict[str, str] = {"type": kind} if kind else {}
        return self._get("/api/v1/rules", params, "the rules request", RulesData).groups

    def alert_rule(self, name: str) -> list[str]:
        """Return the expressions of every alerting rule called `name` (usually one)."""
        return [
            rule.query
            for group in self.rules("alert")
            for rule in group.rules
            if rule.type == "alerting" and rule.name == name
        ]

    def _call(self, path: str, form: dict[str, str], doing: str, model: type[ModelT]) -> ModelT:
        # POST with a form: a long PromQL (many pod names) would not fit a URL.
        response = self._send("POST", path, doing, data=form)
        return self._read(response, doing, model)

    def _get(self, path: str, params: dict[str, str], doing: str, model: type[ModelT]) -> ModelT:
        return self._read(self._send("GET", path, doing, params=params), doing, model)

    def _read(self, response: httpx.Response, doing: str, model: type[ModelT]) -> ModelT:
        try:
            envelope = Envelope.model_validate_json(response.content)
        except ValidationError:
            if response.is_success:
                raise self._bad_answer(doing, f"HTTP {response.status_code}") from None
            error = classify_status(self.service, response.status_code, response.text[:300], doing)
            error.retry_after = _retry_after(response)
            raise error from None
        if envelope.status == "error" or not response.is_success:
            said = f"{envelope.error_type}: {envelope.error}".strip(": ")
            error = classify_status(self.service, response.status_code, said, doing)
            error.retry_after = _retry_after(response)
            raise error
        try:
            return model.model_validate(envelope.data)
        except ValidationError as exc:
            raise self._bad_answer(doing, str(exc).splitlines()[0]) from None


class AlertmanagerClient(_Api):
    """Alertmanager's API v2 (`/api/v2/...`)."""

    service = "Alertmanager"

    def alerts(
        self,
        matchers: Iterable[str] = (),
        *,
        active: bool = True,
        silenced: bool = True,
        inhibited: bool = True,
    ) -> list[AlertmanagerAlert]:
        """Return the alerts Alertmanager holds, narrowed by matchers like `alertname="X"`."""
        params: list[tuple[str, str]] = [
            ("active", str(active).lower()),
            ("silenced", str(silenced).lower()),
            ("inhibited", str(inhibited).lower()),
            *(("filter", matcher) for matcher in matchers),
        ]
        doing = "the alerts request"
        response = self._send("GET", "/api/v2/alerts", doing, params=params)
        if not response.is_success:
            error = classify_status(self.service, response.status_code, response.text[:300], doing)
            error.retry_after = _retry_after(response)
            raise error
        try:
            return _ALERTS.validate_json(response.content)
        except ValidationError as exc:
            raise self._bad_answer(doing, str(exc).splitlines()[0]) from None


@dataclass(frozen=True)
class MetricsClients:
    """The configured clients: Prometheus, Alertmanager, either of them None when unset."""

    prometheus: PrometheusClient | None
    alertmanager: AlertmanagerClient | None


def clients_from(settings: Settings) -> MetricsClients:
    """Build the clients PROMETHEUS_URL and ALERTMANAGER_URL ask for, with their auth."""
    auth: httpx.Auth | None = None
    headers: dict[str, str] = {}
    if settings.prometheus_token is not None:
        headers["Authorization"] = f"Bearer {settings.prometheus_token.get_secret_value()}"
    elif settings.prometheus_user:
        password = settings.prometheus_password
        auth = httpx.BasicAuth(
            settings.prometheus_user, password.get_secret_value() if password else ""
        )
    options: dict[str, Any] = {
        "timeout": settings.prometheus_timeout,
        "auth": auth,
        "headers": headers,
    }
    return MetricsClients(
        prometheus=(
            PrometheusClient(settings.prometheus_url, **options)
            if settings.prometheus_url
            else None
        ),
        alertmanager=(
            AlertmanagerClient(settings.alertmanager_url, **options)
            if settings.alertmanager_url
            else None
        ),
    )


def now() -> datetime:
    """The current time, timezone-aware (what range queries end at)."""
    return datetime.now(UTC)
