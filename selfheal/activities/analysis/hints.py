"""What a fix needs to know that only reading the workload tells: the analysis hands it on.

The rules fill the hint of the diagnoses they make; a model's diagnosis gets it here, from
the same reading, before its fix is made (activities/remedy.py). So fixes never run rules.
"""

from __future__ import annotations

from selfheal.activities.analysis.memory_trend import Shape
from selfheal.activities.analysis.oom_killed import memory_trends
from selfheal.activities.analysis.probe_failure import probe_problems
from selfheal.activities.analysis.replica_shortage import previous_desired_replicas
from selfheal.activities.analysis.workload import WorkloadView
from selfheal.model.diagnosis import FixHint, ProbeHint


def probe_hints(view: WorkloadView) -> list[ProbeHint]:
    """The workload's failing probes that a probe change can cure."""
    return [
        ProbeHint(
            container=problem.container,
            probe=problem.probe,
            mode=problem.mode,
            good_path=problem.good_path,
        )
        for problem in probe_problems(view)
        if problem.fixable
    ]


def leaking_containers(view: WorkloadView) -> list[str]:
    """The containers whose working set the metrics show growing into their limit."""
    names = [str(c.get("name")) for c in view.template_containers()]
    trends = memory_trends(view, names)
    return [name for name in names if name in trends and trends[name].shape == Shape.LEAK]


def hint_for(view: WorkloadView) -> FixHint:
    """Everything a fix may need to know about the workload."""
    return FixHint(
        probes=probe_hints(view),
        replicas_before=previous_desired_replicas(view),
        memory_leak=leaking_containers(view),
    )
