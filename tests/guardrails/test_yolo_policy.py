"""SELFHEAL_AUTO_APPROVE=always on real processes, where only the guardrails stand between an
alert and the cluster: the anti-loop limit stops a fourth fix of one workload in a day, and an
alert about a healthy workload changes nothing, whatever it claims."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from selfheal.model.incident import IncidentState
from tests.e2e.stack import RunningStack, start_stack
from tests.guardrails.drill import (
    BROKEN_MEMORY,
    DRILL_SETTINGS,
    HEALED_MEMORY,
    Drill,
    in_state,
    patch_of,
    wait_for_incidents,
)

ALERTS = ("KubeContainerOOMKilled", "KubePodCrashLooping", "KubePodNotReady")


@pytest.fixture(scope="module")
def yolo_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A stack of its own whose policy applies every fix without a person (the anti-loop
    limit is then the only brake)."""
    running = start_stack(
        tmp_path_factory.mktemp("yolo"),
        **DRILL_SETTINGS,
        SELFHEAL_AUTO_APPROVE="always",
        # The documented defaults, pinned: the e2e harness raises the limit for its own tests.
        SELFHEAL_REMEDIATION_LIMIT="3",
        SELFHEAL_REMEDIATION_WINDOW="24h",
    )
    try:
        yield running
    finally:
        running.stack.down()


async def test_fourth_remediation_in_a_day_escalates_listing_the_three_before(
    yolo_stack: RunningStack,
):
    drill = Drill(yolo_stack)
    client = await yolo_stack.client()
    drill.create_namespace()
    drill.deploy(["flappy"])
    earlier = []
    for alertname in ALERTS:
        drill.wait_until_oom_killed(["flappy"])
        [incident_id] = drill.raise_alerts([(alertname, "flappy")])
        await wait_for_incidents(client, [incident_id], in_state(IncidentState.RESOLVED))
        assert drill.memory_limit("flappy") == HEALED_MEMORY
        earlier.append(incident_id)
        drill.break_again("flappy")
    assert len(set(earlier)) == 3

    drill.wait_until_oom_killed(["flappy"])
    before = drill.mutations()
    [fourth] = drill.raise_alerts([("KubeDeploymentReplicasMismatch", "flappy")])
    final = await wait_for_incidents(client, [fourth], in_state(IncidentState.ESCALATED))

    reason = final[fourth].escalation_reason or ""
    assert reason.startswith("anti-loop: sandbox/drill/flappy was remediated 3 times"), reason
    assert all(incident_id in reason for incident_id in earlier), reason
    assert final[fourth].fix is not None and final[fourth].actions_taken == 0
    assert drill.mutations() - before == Counter()
    assert drill.memory_limit("flappy") == BROKEN_MEMORY
    assert patch_of("flappy") in before


async def test_forged_alert_about_a_healthy_workload_changes_nothing_and_goes_to_a_person(
    yolo_stack: RunningStack,
):
    drill = Drill(yolo_stack)
    client = await yolo_stack.client()
    drill.create_namespace()
    drill.deploy(["steady"], memory_limit=HEALED_MEMORY)
    drill.wait_until_available("steady")
    before = drill.mutations()

    [incident_id] = drill.raise_alerts([("KubeContainerOOMKilled", "steady")])
    final = await wait_for_incidents(client, [incident_id], in_state(IncidentState.ESCALATED))

    status = final[incident_id]
    reason = status.escalation_reason or ""
    assert reason.startswith(
        "the cluster does not show why KubeContainerOOMKilled fires for drill/steady"
    ), reason
    assert status.fix is None and status.actions_taken == 0
    assert drill.mutations() - before == Counter()
    assert drill.memory_limit("steady") == HEALED_MEMORY

    # The alert resolves: nothing was changed, so it closes as resolved by itself.
    assert drill.raise_alerts([("KubeContainerOOMKilled", "steady")], status="resolved") == [
        incident_id
    ]
    final = await wait_for_incidents(client, [incident_id], in_state(IncidentState.RESOLVED))
    assert (final[incident_id].resolution or "").startswith("the alert resolved by itself")
    # A late resolved notification opens nothing.
    [late] = drill.raise_alerts([("KubeContainerOOMKilled", "steady")], status="resolved")
    assert late == ""
    assert drill.mutations() - before == Counter()
