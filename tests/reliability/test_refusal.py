"""A permanent 403 ends the incident ESCALATED with the reason, after one request, not a storm."""

from __future__ import annotations

from selfheal_lab.experiments import standin_faults


async def test_kubernetes_refusal_escalates_with_the_reason_and_no_retry_storm():
    figures = await standin_faults.refusal("kubernetes", say=lambda _: None)

    assert figures.passed, figures.render()
    assert figures.escalated == 1
    assert "forbidden" in figures.extra["reason"]
    assert figures.extra["kubernetes requests refused"] <= standin_faults.STORM_LIMIT
