"""Break a sandbox stand-in from outside its process, and count the requests it served.

Talks to the control routes every stand-in serves (lab/selfheal_lab/sandbox/control.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

STANDINS = ("kubernetes", "github", "jira")


@dataclass(frozen=True)
class StandIn:
    """One stand-in (`kubernetes`, `github`, `jira`) of a running sandbox, by its base URL."""

    name: str
    url: str

    def fail(
        self,
        status: int = 503,
        *,
        hang: bool = False,
        for_seconds: float | None = None,
        path_contains: str | None = None,
        methods: list[str] | None = None,
    ) -> dict[str, Any]:
        """Answer matching requests with `status` (or hold them when `hang`) until healed."""
        body = {
            "status": status,
            "hang": hang,
            "for_seconds": for_seconds,
            "path_contains": path_contains,
            "methods": methods,
        }
        return self._call("PUT", "faults", body)

    def heal(self) -> dict[str, Any]:
        """Stop injecting; requests held by a hang are served normally."""
        return self._call("DELETE", "faults")

    def fault(self) -> dict[str, Any]:
        """The fault in force (`active`, or None) and how many requests it hit (`injected`)."""
        return self._call("GET", "faults")

    def requests(self) -> RequestCounts:
        """The requests served since the last `reset_requests`."""
        answer = self._call("GET", "requests")
        return RequestCounts(
            total=answer["total"], mutating=answer["mutating"], by_route=answer["by_route"]
        )

    def reset_requests(self) -> None:
        self._call("DELETE", "requests")

    def _call(self, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
        answer = httpx.request(method, f"{self.url}/sandbox/v1/{route}", json=body, timeout=10)
        answer.raise_for_status()
        return answer.json()


@dataclass(frozen=True)
class RequestCounts:
    """Requests a stand-in served: all, the mutating ones, and by "METHOD path"."""

    total: int
    mutating: int
    by_route: dict[str, int]

    def matching(self, fragment: str, methods: tuple[str, ...] = ()) -> int:
        """Requests whose path contains `fragment` (and whose method is one of `methods`)."""
        count = 0
        for route, number in self.by_route.items():
            method, _, path = route.partition(" ")
            if fragment in path and (not methods or method in methods):
                count += number
        return count
