"""An alert storm through the real webhook: one incident per workload, every alert counted."""

from __future__ import annotations

from selfheal_lab.experiments import storm


async def test_storm_of_2000_alerts_opens_one_incident_per_workload_and_counts_them_all():
    figures = await storm.run(alerts=2_000, workloads=20, settle=240, say=lambda _: None)

    assert figures.passed, figures.render()
    assert figures.started == 20
    assert figures.extra["incident runs"] == 20
    assert figures.extra["alerts counted"] == 2_000
    assert figures.duplicate_tickets == 0
