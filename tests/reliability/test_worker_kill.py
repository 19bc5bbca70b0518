"""SIGKILL of the worker mid-incident: a new worker carries the incident to RESOLVED.

The full sweep over every state is `python -m selfheal_lab.experiments worker-kill`;
these two states recover fastest (nothing in flight; a heartbeating activity).
"""

from __future__ import annotations

import pytest

from selfheal.model.incident import IncidentState
from selfheal_lab.experiments import worker_kill


@pytest.mark.parametrize("state", [IncidentState.AWAITING_REVIEW, IncidentState.VERIFYING])
async def test_incident_outlives_a_sigkilled_worker(state: IncidentState):
    figures = await worker_kill.kill_worker_at(state, say=lambda _: None)

    assert figures.passed, figures.render()
    assert (figures.started, figures.resolved, figures.lost) == (1, 1, 0)
    assert figures.duplicates == 0
    assert figures.recovery_seconds[state.value] < 90
