"""The investigation's read-only PromQL tool: an instant query, or a range over the last hour
at most, answered from the Prometheus at PROMETHEUS_URL and bounded in size.

Only the query endpoints are called, so nothing can be written; at most MAX_SERIES series
are shown, a range as each series' first, lowest, highest and last value rather than every
sample. A query Prometheus refuses, or none configured, is an error answer the model can
correct.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from selfheal.activities.prometheus.client import PrometheusClient, now
from selfheal.activities.prometheus.errors import MetricsApiError
from selfheal.contracts.claude import ToolAnswer

MAX_SERIES = 50
MAX_RANGE = timedelta(hours=1)
RANGE_POINTS = 60

NOT_CONFIGURED = "no Prometheus is configured (PROMETHEUS_URL): use the context, events and logs"


def metrics_tool_spec() -> dict[str, Any]:
    """The tool as the model is offered it."""
    return {
        "name": "query_metrics",
        "description": "Run a read-only PromQL query on the cluster's Prometheus: an instant "
        "query, or with range_minutes (at most 60) the series over that many minutes, each "
        "summarised as first, min, max and last. E.g. "
        'rate(container_cpu_cfs_throttled_periods_total{namespace="shop"}[5m]).',
        "input_schema": {
            "type": "object",
            "properties": {
                "promql": {"type": "string"},
                "range_minutes": {"type": "integer", "minimum": 1, "maximum": 60},
            },
            "required": ["promql"],
        },
    }


def query_metrics(arguments: dict[str, Any], prometheus: PrometheusClient | None) -> ToolAnswer:
    """Answer one query_metrics call."""
    if prometheus is None:
        return ToolAnswer(content=NOT_CONFIGURED, is_error=True)
    promql = str(arguments["promql"]).strip()
    if not promql:
        raise ValueError("promql is empty")
    minutes = arguments.get("range_minutes")
    try:
        if minutes:
            span = min(timedelta(minutes=int(minutes)), MAX_RANGE)
            end = now()
            series = prometheus.query_range(promql, end - span, end, span / RANGE_POINTS)
            lines = [
                f"{_labels(s.metric)} first {s.values[0][1]:g} min {min(v for _, v in s.values):g}"
                f" max {max(v for _, v in s.values):g} last {s.values[-1][1]:g}"
                for s in series
                if s.values
            ]
        else:
            samples = prometheus.query(promql)
            lines = [f"{_labels(s.metric)} {s.value[1]:g}" for s in samples]
    except MetricsApiError as failed:
        return ToolAnswer(content=f"Prometheus refused the query: {failed.message}", is_error=True)
    if not lines:
        return ToolAnswer(content="no series")
    shown = lines[:MAX_SERIES]
    if len(lines) > MAX_SERIES:
        shown.append(f"[{len(lines) - MAX_SERIES} more series not shown: narrow the query]")
    return ToolAnswer(content="\n".join(shown))


def _labels(labels: dict[str, str]) -> str:
    name = labels.get("__name__", "")
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}"
