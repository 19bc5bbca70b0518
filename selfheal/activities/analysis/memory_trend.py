"""How a container's working set moved before it was OOMKilled: flat at an undersized
limit, or growing steadily into it (a leak). Read from the metrics, when there are any.

One process's life is a run of samples without a reset (a drop of a fifth of the limit: the
kill and restart). A leak is a long run rising steadily by a good share of the limit while
the working set spends little time near it; an undersized limit keeps the working set near
the limit most of the window, whatever it does between kills.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

from selfheal.contracts.prometheus import ContainerMetrics, Point, latest

MIN_SAMPLES = 6
NEAR_LIMIT = 0.85
"""A working set at this share of the limit or more is "at the limit"."""
RESET_DROP = 0.2
"""A fall of this share of the limit between two samples is a restart, not a fluctuation."""
MIN_GROWTH = 0.3
"""A leak's run grows by at least this share of the limit."""
MIN_RISING = 0.8
"""...rising (or holding) in at least this share of its steps."""
MIB = 2**20


class Shape(StrEnum):
    LEAK = "leak"
    UNDERSIZED = "undersized"


@dataclass(frozen=True)
class MemoryTrend:
    """What the working set did, said in a sentence for the evidence."""

    shape: Shape
    detail: str


def _runs(points: list[Point], limit: float) -> list[list[Point]]:
    runs: list[list[Point]] = [[points[0]]]
    for before, after in pairwise(points):
        if after[1] < before[1] - RESET_DROP * limit:
            runs.append([])
        runs[-1].append(after)
    return runs


def memory_trend(container: ContainerMetrics) -> MemoryTrend | None:
    """The shape of the container's working set against its limit, or None when the
    metrics are too few or show neither shape."""
    limit = latest(container.memory_limit_bytes)
    points = container.memory_working_set_bytes
    if not limit or len(points) < MIN_SAMPLES:
        return None
    near = sum(1 for _, value in points if value >= NEAR_LIMIT * limit)
    longest = max(_runs(points, limit), key=len)
    if len(longest) >= MIN_SAMPLES and near < len(points) / 2:
        steps = list(pairwise(longest))
        rising = sum(1 for a, b in steps if b[1] >= a[1]) / len(steps)
        growth = longest[-1][1] - longest[0][1]
        hours = (longest[-1][0] - longest[0][0]) / 3600
        if rising >= MIN_RISING and growth >= MIN_GROWTH * limit and hours > 0:
            return MemoryTrend(
                Shape.LEAK,
                f"grows steadily by about {growth / hours / MIB:.0f} MiB/h: from "
                f"{longest[0][1] / limit:.0%} to {longest[-1][1] / limit:.0%} of its "
                f"{limit / MIB:.0f} MiB limit over {hours * 60:.0f} min, rising in "
                f"{rising:.0%} of the steps",
            )
    if near >= len(points) / 2:
        return MemoryTrend(
            Shape.UNDERSIZED,
            f"sits at {NEAR_LIMIT:.0%} or more of its {limit / MIB:.0f} MiB limit in {near} of "
            f"{len(points)} samples: flat at the limit, not growing into it",
        )
    return None
