"""One reading of a workload's rollout progress, whatever its kind."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RolloutStatus:
    """One reading of a workload's rollout progress (revision: a Deployment's, else None)."""

    complete: bool
    failed: bool
    message: str
    desired: int
    ready: int
    revision: int | None
