"""JIRA's failures as Temporal errors: a refusal fails for good at once, an outage is retried."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from requests import HTTPError
from temporalio.exceptions import ApplicationError

MAX_RETRY_AFTER = timedelta(minutes=10)


def translate(exc: HTTPError, doing: str) -> ApplicationError:
    """Return the ApplicationError a failed JIRA request becomes, naming what was being done."""
    response = exc.response
    status = response.status_code if response is not None else None
    detail = str(exc).strip() or "no message"
    said = f"JIRA answered HTTP {status} to {doing}: {detail}"
    if status == 429 or status == 503:
        retry_after = response.headers.get("Retry-After", "") if response is not None else ""
        delay = timedelta(seconds=int(retry_after)) if retry_after.isdigit() else None
        return ApplicationError(
            said,
            type="JiraUnavailable",
            next_retry_delay=min(delay, MAX_RETRY_AFTER) if delay else None,
        )
    if status in (401, 403):
        return ApplicationError(
            f"{said}. Check JIRA_USER and JIRA_TOKEN, and that the user may browse, create, "
            "comment on and transition issues in the project",
            type="JiraPermissionDenied",
            non_retryable=True,
        )
    if status == 404:
        return ApplicationError(said, type="TicketNotFound", non_retryable=True)
    if status is not None and 400 <= status < 500:
        return ApplicationError(said, type="JiraRequestRejected", non_retryable=True)
    return ApplicationError(said, type="JiraUnavailable")


@contextmanager
def jira_call(doing: str) -> Iterator[None]:
    """Run JIRA calls, turning HTTP failures into ApplicationErrors that say what failed.

    Network errors and timeouts pass through unchanged: Temporal retries them with backoff.
    """
    try:
        yield
    except HTTPError as exc:
        if exc.response is None:
            raise
        raise translate(exc, doing) from exc
