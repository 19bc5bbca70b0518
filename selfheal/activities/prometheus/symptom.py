"""Verification by the symptom: whether the conditions of the alerts that paged still hold
for the workload once the fix is in.

Each alert's expression comes from Prometheus' rules API by the alert's name, or, when that
Prometheus has no such rule (the alert came from another one: a Thanos ruler, a second
Prometheus behind one query frontend), from the `generatorURL` of the alert Alertmanager
holds for the workload; it is evaluated as an instant query. A series counts when its
labels name this workload (the same reading of kube-state-metrics labels the webhook does)
or name no namespace at all (a condition about everything holds for this workload too).
The symptom has cleared once no series counts for a whole `window`; one that still holds
after `wait` is the answer. An alert with no expression to evaluate is asked of
Alertmanager (still active for the workload?) when ALERTMANAGER_URL is set. With nothing to
ask, the report says it did not check.

A read that fails in a way a retry may fix (Prometheus down, a 503) is a poll without an
answer: the clear window starts again, and the reads go on until `wait` is over, when the
report says the condition could not be checked (`failed`), never that it cleared.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from selfheal.activities.prometheus.api import AlertmanagerAlert
from selfheal.activities.prometheus.client import AlertmanagerClient, PrometheusClient
from selfheal.activities.prometheus.errors import MetricsApiError
from selfheal.contracts.prometheus import (
    SYMPTOM_NOT_CHECKED,
    SYMPTOM_UNCHECKABLE,
    SymptomReport,
    SymptomRequest,
)
from selfheal.model.workload_labels import workload_of


@dataclass(frozen=True)
class Finding:
    """One alert's condition read once: does it hold for the workload, and why."""

    alert: str
    holds: bool
    detail: str


def about_workload(labels: dict[str, str], request: SymptomRequest) -> bool:
    """True when a series (or an active alert) with these labels is about the workload."""
    if request.cluster and labels.get("cluster") not in (None, request.cluster):
        return False
    namespace = labels.get("namespace")
    if namespace is None:
        return True
    if namespace != request.namespace:
        return False
    named = workload_of(labels)
    return named is None or (named.kind, named.name) == (request.kind, request.workload)


class SymptomCheck:
    """Reads the alerts' conditions from Prometheus' rules, or Alertmanager's alerts."""

    def __init__(
        self, prometheus: PrometheusClient | None, alertmanager: AlertmanagerClient | None
    ) -> None:
        self._prometheus = prometheus
        self._alertmanager = alertmanager
        self._rules: dict[str, list[str]] = {}
        self._generated: dict[str, list[str]] = {}

    def unanswerable(self, request: SymptomRequest) -> str | None:
        """Why nothing can be checked for these alerts, or None when something can."""
        if self._prometheus is None and self._alertmanager is None:
            return SYMPTOM_NOT_CHECKED
        if self._alertmanager is None:
            assert self._prometheus is not None
            missing = [name for name in request.alert_names if not self._rule(name)]
            if len(missing) == len(request.alert_names):
                return (
                    "the alert's own condition was not checked: Prometheus has no alerting "
                    f"rule named {', '.join(missing)}, and no Alertmanager (ALERTMANAGER_URL) "
                    "was set to ask"
                )
        return None

    def read(self, request: SymptomRequest) -> list[Finding]:
        """Each alert's condition, as it is now."""
        return [self._read_one(name, request) for name in request.alert_names]

    def _rule(self, name: str) -> list[str]:
        if name not in self._rules:
            assert self._prometheus is not None
            self._rules[name] = self._prometheus.alert_rule(name)
        return self._rules[name]

    def _held(self, name: str, request: SymptomRequest) -> list[AlertmanagerAlert]:
        """The alerts of this name Alertmanager holds (active, not silenced) for the workload."""
        assert self._alertmanager is not None
        held = self._alertmanager.alerts([f'alertname="{name}"'], silenced=False)
        return [alert for alert in held if about_workload(alert.labels, request)]

    def _read_one(self, name: str, request: SymptomRequest) -> Finding:
        expressions = self._rule(name) if self._prometheus is not None else []
        held: list[AlertmanagerAlert] = []
        if not expressions and self._alertmanager is not None:
            held = self._held(name, request)
            if self._prometheus is not None:
                # Kept once found: Alertmanager forgets an alert once it has resolved.
                found = {
                    expr for alert in held if (expr := generator_expression(alert.generator_url))
                }
                self._generated[name] = sorted(found) or self._generated.get(name, [])
                expressions = self._generated[name]
        for expression in expressions:
            assert self._prometheus is not None
            series = [
                sample
                for sample in self._prometheus.query(expression)
                if about_workload(sample.metric, request)
            ]
            if series:
                shown = ", ".join(
                    f"{sample.value[1]:g} for {_labels(sample.metric)}" for sample in series[:3]
                )
                return Finding(name, True, f"{name} ({expression}) = {shown}")
        if expressions:
            return Finding(name, False, f"{name} returns no series for it")
        if self._alertmanager is None:
            return Finding(name, False, f"{name}: no alerting rule to evaluate")
        if held:
            return Finding(name, True, f"{name} is still active in Alertmanager")
        return Finding(name, False, f"{name} is no longer active in Alertmanager")


def generator_expression(url: str) -> str | None:
    """The PromQL of a Prometheus alert's generatorURL (`…/graph?g0.expr=…&g0.tab=1`)."""
    found = parse_qs(urlsplit(url).query).get("g0.expr")
    return found[0].strip() or None if found else None


def _labels(labels: dict[str, str]) -> str:
    shown = {key: value for key, value in labels.items() if key != "__name__"}
    return "{" + ", ".join(f'{key}="{value}"' for key, value in sorted(shown.items())) + "}"


def watch_symptom(
    check: SymptomCheck,
    request: SymptomRequest,
    sleep: Callable[[float, str], None],
) -> SymptomReport:
    """Poll the conditions until none has held for `request.window` (cleared), or one still
    holds after `request.wait` (holds), or the monitoring has not answered by then."""
    where = f"{request.namespace}/{request.workload}"
    window, wait = request.window.total_seconds(), request.wait.total_seconds()
    interval = min(max(window / 6, 1.0), 15.0)
    started = time.monotonic()
    clear_since: float | None = None
    unanswered = 0
    while True:
        try:
            if why := check.unanswerable(request):
                return SymptomReport(checked=False, message=why)
            findings = check.read(request)
        except MetricsApiError as failed:
            unanswered += 1
            elapsed = time.monotonic() - started
            if not failed.retryable or elapsed >= wait:
                return SymptomReport(
                    checked=False,
                    failed=True,
                    message=f"{SYMPTOM_UNCHECKABLE} for {where}: {failed.message} "
                    f"({unanswered} read(s) failed over {_human(elapsed)})",
                )
            clear_since = None
            sleep(interval, f"{failed.service} did not answer ({failed.message}); asking again")
            continue
        now = time.monotonic()
        holding = [finding for finding in findings if finding.holds]
        if holding:
            clear_since = None
            if now - started >= wait:
                details = "; ".join(finding.detail for finding in holding)
                return SymptomReport(
                    checked=True,
                    holds=True,
                    message=f"the symptom still holds for {where} after "
                    f"{_human(now - started)}: {details}",
                )
        else:
            clear_since = clear_since if clear_since is not None else now
            if now - clear_since >= window:
                details = "; ".join(finding.detail for finding in findings)
                return SymptomReport(
                    checked=True,
                    message=f"the symptom cleared for {where} and stayed clear for "
                    f"{_human(window)}: {details}",
                )
        sleep(interval, f"{len(holding)} of {len(findings)} alert conditions hold for {where}")


def _human(seconds: float) -> str:
    """`90s`, `2m`, `17m30s`."""
    minutes, rest = divmod(round(seconds), 60)
    if not minutes:
        return f"{rest}s"
    return f"{minutes}m{rest}s" if rest else f"{minutes}m"
