"""Scenario cases only the metrics tell apart: an OOMKilled container whose working set grew
steadily into its limit (a leak: a raise is a stopgap, risk raised) and one whose working set
sits at an undersized limit (raise it). The objects are the same kind of OOM; the samples in
`metrics/workload.json` (an hour, a minute apart, ending at NOW) differ.
"""

from __future__ import annotations

from collections.abc import Callable

from kit import DAY, NOW, REG, Obj, Revision, Scenario, c_running, terminated, web

MIB = 2**20
LIMIT = 1024 * MIB
SAMPLES = 61
END = NOW.timestamp()


def _series(value: Callable[[int], float]) -> list[list[float]]:
    """One sample a minute over the last hour: `value(minutes_ago)`."""
    return [[END - 60 * ago, float(round(value(ago)))] for ago in range(SAMPLES - 1, -1, -1)]


def _metrics(working_set: Callable[[int], float], restarts: Callable[[int], float]) -> Obj:
    return {
        "source": "http://prometheus.monitoring:9090",
        "note": "",
        "start": "2025-06-03T13:30:00Z",
        "end": "2025-06-03T14:30:00Z",
        "step_seconds": 60.0,
        "containers": [
            {
                "container": "search",
                "memory_working_set_bytes": _series(working_set),
                "memory_limit_bytes": _series(lambda ago: LIMIT),
                "cpu_usage_cores": _series(lambda ago: 0.4),
                "cpu_limit_cores": _series(lambda ago: 2),
                "cpu_throttled_ratio": _series(lambda ago: 0),
                "restarts": _series(restarts),
            }
        ],
    }


def _search_oom(case: str, description: str, started: float, killed: float) -> Scenario:
    """search OOMKilled (started `started`, killed `killed` minutes ago), running again."""
    s = Scenario(
        "oom_killed",
        case,
        "increase_memory",
        "search",
        replicas=2,
        containers=["search"],
        description=description,
    )
    rev = Revision(3, [web(f"{REG}/search:3.2.0", memory="1Gi")], 30 * DAY, replicas=2, ready=1)
    s.revisions = [rev]
    app = rev.containers[0]
    s.pod(rev, 0, [c_running(app, 3 * DAY)], started_minutes_ago=3 * DAY)
    last = terminated(137, "OOMKilled", started, killed)
    s.pod(
        rev,
        1,
        [c_running(app, killed, ready=False, restarts=3, last=last)],
        started_minutes_ago=3 * DAY,
    )
    return s


def oom_leak() -> Scenario:
    s = _search_oom(
        "leak_grows_into_limit",
        "OOMKilled after 50 minutes of steady growth from 300Mi to its 1Gi limit, then growing "
        "again: a leak; a bounded raise only as a stopgap, with the risk raised.",
        started=52,
        killed=2,
    )

    def working_set(ago: int) -> float:
        if ago <= 2:  # restarted two minutes ago: growing again from where it starts
            return 300 * MIB + (2 - ago) * 14 * MIB
        return 300 * MIB + (52 - min(ago, 52)) * 14.4 * MIB

    s.metrics = _metrics(working_set, lambda ago: 2 if ago > 2 else 3)
    return s


def oom_undersized() -> Scenario:
    s = _search_oom(
        "undersized_flat_at_limit",
        "OOMKilled minutes after each start: the working set sits at its 1Gi limit from "
        "warm-up on, flat, not growing: an undersized limit; raise it.",
        started=6,
        killed=2,
    )

    def working_set(ago: int) -> float:
        # Warm-up reaches the limit within two minutes of each start (a start every 8 min).
        since_start = (60 - ago) % 8
        return LIMIT * (0.55 if since_start == 0 else 0.97 + 0.01 * (since_start % 3))

    s.metrics = _metrics(working_set, lambda ago: (60 - ago) // 8)
    return s


CASES = [oom_leak, oom_undersized]
