"""The scale benchmark's baseline workflow, in a module of its own.

The workflow sandbox re-imports a workflow's module for every run; kept apart from
scale.py (which imports the whole product), the baseline costs what a lean workflow costs.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="noop")
async def noop(step: int) -> int:
    """Does nothing; one step of the baseline."""
    return step


@workflow.defn
class BareWorkflow:
    """The baseline: `steps` no-op activities in a row, nothing else."""

    @workflow.run
    async def run(self, steps: int) -> int:
        for step in range(steps):
            await workflow.execute_activity(
                noop, step, start_to_close_timeout=timedelta(seconds=30)
            )
        return steps
