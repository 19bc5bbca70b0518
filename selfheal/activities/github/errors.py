"""GitHub's failures as Temporal errors: what a retry cannot fix fails for good, at once."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta

from github import GithubException, RateLimitExceededException
from temporalio.exceptions import ApplicationError

MAX_RATE_LIMIT_WAIT = timedelta(minutes=15)


def github_message(exc: GithubException) -> str:
    """Return GitHub's own words for a failed request, with any field errors."""
    data = exc.data if isinstance(exc.data, Mapping) else {}
    message = str(data.get("message") or exc.message or "").strip()
    details = []
    for error in data.get("errors") or []:
        details.append(
            str(error.get("message") or error) if isinstance(error, Mapping) else str(error)
        )
    return "; ".join(part for part in [message, *details] if part) or "no message"


def rate_limit_delay(exc: GithubException) -> timedelta | None:
    """Return how long GitHub asks to wait when the failure is a rate limit, else None."""
    headers = {str(k).lower(): str(v) for k, v in (exc.headers or {}).items()}
    limited = isinstance(exc, RateLimitExceededException) or exc.status == 429
    if exc.status == 403 and (
        "retry-after" in headers or headers.get("x-ratelimit-remaining") == "0"
    ):
        limited = True
    if not limited:
        return None
    if headers.get("retry-after", "").isdigit():
        wait = timedelta(seconds=int(headers["retry-after"]))
    elif headers.get("x-ratelimit-reset", "").isdigit():
        wait = timedelta(seconds=max(int(headers["x-ratelimit-reset"]) - int(time.time()), 1))
    else:
        wait = timedelta(seconds=60)
    return min(wait, MAX_RATE_LIMIT_WAIT)


def translate(exc: GithubException, doing: str, repo: str) -> ApplicationError:
    """Return the ApplicationError a failed GitHub call becomes, naming what was being done."""
    status = exc.status
    said = f"GitHub answered HTTP {status} to {doing} in {repo}: {github_message(exc)}"
    delay = rate_limit_delay(exc)
    if delay is not None:
        return ApplicationError(
            f"{said}; retrying after {int(delay.total_seconds())}s",
            type="GitHubRateLimited",
            next_retry_delay=delay,
        )
    if status in (401, 403):
        return ApplicationError(
            f"{said}. Give GITHUB_TOKEN contents, pull requests and issues write access to {repo}",
            type="GitHubPermissionDenied",
            non_retryable=True,
        )
    if status is not None and 400 <= status < 500:
        return ApplicationError(said, type="GitHubRequestRejected", non_retryable=True)
    return ApplicationError(said, type="GitHubUnavailable")


@contextmanager
def github_call(doing: str, repo: str) -> Iterator[None]:
    """Run GitHub calls, turning their failures into ApplicationErrors that say what failed.

    Network errors and timeouts pass through unchanged: Temporal retries them with backoff.
    """
    try:
        yield
    except GithubException as exc:
        raise translate(exc, doing, repo) from exc
