"""Structured logs (JSON in production, console in a terminal) and the worker's tracing.

Activity logs carry the incident they serve: an activity interceptor binds `incident_id`
(and the activity and attempt) to structlog's context for the activity's duration.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from selfheal.redaction import redact_text


def _redact_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # Log lines may quote alert text or API errors; secrets never reach the log.
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = redact_text(value)
    return event


def configure_logging(log_format: str = "auto", level: int = logging.INFO) -> None:
    """Route structlog and stdlib logging to stderr as JSON or console lines."""
    use_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")


_CHILD_SUFFIX = re.compile(r"-investigation-\d+$")


def incident_of(workflow_id: str | None) -> str | None:
    """The incident a workflow belongs to: itself, or the parent of its investigation."""
    return _CHILD_SUFFIX.sub("", workflow_id) if workflow_id else None


class LogContextInterceptor(Interceptor):
    """Worker interceptor binding the incident id to every log line an activity writes."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _BindIncident(next)


class _BindIncident(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        # Sync activities run on the worker's threads with a copy of this context.
        with structlog.contextvars.bound_contextvars(
            incident_id=incident_of(info.workflow_id),
            activity=info.activity_type,
            attempt=info.attempt,
        ):
            return await super().execute_activity(input)


def tracing_interceptors() -> list[Interceptor]:
    """Return the SDK's OpenTelemetry tracing interceptor when opentelemetry-sdk is installed.

    OpenTelemetry is not a dependency: without it, no tracing. With it, spans go to the
    globally configured tracer provider (e.g. `opentelemetry-instrument selfheal worker`).
    """
    # The parent first: looking up a submodule of a missing package raises.
    if importlib.util.find_spec("opentelemetry") is None:
        return []
    if importlib.util.find_spec("opentelemetry.sdk") is None:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]
