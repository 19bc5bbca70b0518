"""Prometheus' and Alertmanager's failures: what a retry may fix, and what it cannot.

The client raises `MetricsApiError`, free of Temporal, so the CLI can use it too; the
activities turn it into an ApplicationError with `metrics_call`, the way the GitHub and JIRA
activities turn theirs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from temporalio.exceptions import ApplicationError


class MetricsApiError(Exception):
    """A request to Prometheus or Alertmanager that failed, in words a person can act on.

    `kind` is the error's type name without the service (Unavailable, PermissionDenied,
    QueryRejected, NotFound, BadAnswer); `retryable` says whether a later try may succeed.
    """

    def __init__(
        self,
        service: str,
        kind: str,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: timedelta | None = None,
    ) -> None:
        super().__init__(message)
        self.service = service
        self.kind = kind
        self.message = message
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after

    @property
    def type(self) -> str:
        """The ApplicationError type: PrometheusUnavailable, AlertmanagerQueryRejected, ..."""
        return f"{self.service}{self.kind}"


def classify_status(service: str, status: int, said: str, doing: str) -> MetricsApiError:
    """Return the error for an HTTP error answer `status` whose body said `said`."""
    message = f"{service} answered HTTP {status} to {doing}: {said or 'no message'}"
    if status in (401, 403):
        return MetricsApiError(
            service,
            "PermissionDenied",
            f"{message}. Check PROMETHEUS_TOKEN, or PROMETHEUS_USER and PROMETHEUS_PASSWORD",
            retryable=False,
            status=status,
        )
    if status == 404:
        return MetricsApiError(
            service,
            "NotFound",
            f"{message}. Is the URL the server's base URL (without /api/...)?",
            retryable=False,
            status=status,
        )
    if status == 429 or status >= 500:
        return MetricsApiError(service, "Unavailable", message, retryable=True, status=status)
    # 400 bad_data, 422 execution: the same query fails the same way next time.
    return MetricsApiError(service, "QueryRejected", message, retryable=False, status=status)


def as_application_error(exc: MetricsApiError) -> ApplicationError:
    """Return the ApplicationError a failed metrics request becomes."""
    return ApplicationError(
        exc.message,
        type=exc.type,
        non_retryable=not exc.retryable,
        next_retry_delay=exc.retry_after,
    )


@contextmanager
def metrics_call() -> Iterator[None]:
    """Run Prometheus/Alertmanager requests, raising their failures as ApplicationErrors."""
    try:
        yield
    except MetricsApiError as exc:
        raise as_application_error(exc) from exc
