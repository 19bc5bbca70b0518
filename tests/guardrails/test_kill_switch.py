"""The kill switch on real processes: frozen during 20 approved incidents, through a worker
SIGKILL and a dev-server restart, and nothing reaches the cluster until `unfreeze`."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from selfheal.model.incident import IncidentState, IncidentStatus
from selfheal_lab.local_stack import pid_alive, port_open
from tests.e2e.stack import RunningStack, start_stack
from tests.guardrails.drill import (
    DRILL_SETTINGS,
    HEALED_MEMORY,
    Drill,
    in_state,
    patch_of,
    wait_for_incidents,
)

INCIDENTS = 20


@pytest.fixture(scope="module")
def drill_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A stack of its own (this module kills its processes): direct mode, a human approves."""
    running = start_stack(
        tmp_path_factory.mktemp("kill-switch"), **DRILL_SETTINGS, SELFHEAL_AUTO_APPROVE="never"
    )
    try:
        yield running
    finally:
        running.stack.down()


def frozen_in_timeline(status: IncidentStatus) -> bool:
    """True once the incident has recorded that it waits on the freeze to apply its fix."""
    return any(
        "remediation frozen by sre" in entry.note and "waiting to apply" in entry.note
        for entry in status.timeline
    )


def stop(pid: int, how: signal.Signals) -> None:
    """Signal one process this test's stack started and wait until it is gone."""
    os.kill(pid, how)
    deadline = time.monotonic() + 30
    while pid_alive(pid):
        assert time.monotonic() < deadline, f"process {pid} did not stop"
        time.sleep(0.1)


async def test_freeze_holds_every_mutation_through_restarts_until_unfreeze(
    drill_stack: RunningStack,
):
    drill = Drill(drill_stack)
    names = [f"svc-{index:02d}" for index in range(INCIDENTS)]
    late = "svc-late"
    drill.create_namespace()
    drill.deploy([*names, late])
    drill.wait_until_oom_killed([*names, late])
    incident_ids = drill.raise_alerts(("KubeContainerOOMKilled", name) for name in names)
    assert len(set(incident_ids)) == INCIDENTS

    client = await drill_stack.client()
    await wait_for_incidents(
        client, incident_ids, in_state(IncidentState.AWAITING_APPROVAL), timeout=180
    )
    before_freeze = drill.mutations()

    frozen = drill_stack.cli("freeze", "--by", "sre", "--reason", "drill")
    assert frozen.returncode == 0, frozen.stderr
    assert "remediation frozen" in frozen.stdout

    def approve(incident_id: str) -> tuple[int, str]:
        done = drill_stack.cli("approve", incident_id, "--by", "alice")
        return done.returncode, done.stderr

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(approve, incident_ids))
    assert all(code == 0 for code, _ in answers), answers

    waiting = await wait_for_incidents(client, incident_ids, frozen_in_timeline, timeout=60)
    assert all(s.state == IncidentState.AWAITING_APPROVAL for s in waiting.values())
    assert drill.mutations() - before_freeze == Counter()
    listing = drill_stack.cli("list")
    assert "REMEDIATION FROZEN" in listing.stdout, listing.stdout

    # The worker dies without warning, then the dev server stops; both come back.
    stop(drill_stack.info.pids["worker"], signal.SIGKILL)
    stop(drill_stack.info.pids["temporal"], signal.SIGTERM)
    while port_open(drill_stack.ports.temporal):
        time.sleep(0.1)
    drill_stack.info = drill_stack.stack.up(
        with_sandbox=True, with_webhook=True, env=drill_stack.env
    )
    client = await drill_stack.client()

    # A new incident after the restarts is held too: the freeze lives in Temporal.
    [late_id] = drill.raise_alerts([("KubeContainerOOMKilled", late)])
    await wait_for_incidents(client, [late_id], in_state(IncidentState.AWAITING_APPROVAL))
    assert approve(late_id)[0] == 0
    all_ids = [*incident_ids, late_id]
    waiting = await wait_for_incidents(client, all_ids, frozen_in_timeline, timeout=120)
    assert all(s.state == IncidentState.AWAITING_APPROVAL for s in waiting.values())
    listing = drill_stack.cli("list")
    assert "REMEDIATION FROZEN" in listing.stdout, listing.stdout
    assert drill.mutations() - before_freeze == Counter()

    unfrozen = drill_stack.cli("unfreeze", "--by", "sre")
    assert unfrozen.returncode == 0, unfrozen.stderr
    finals = await wait_for_incidents(
        client, all_ids, in_state(IncidentState.RESOLVED), timeout=240
    )

    after = drill.mutations() - before_freeze
    assert after == Counter({patch_of(name): 1 for name in [*names, late]}), after
    assert all(drill.memory_limit(name) == HEALED_MEMORY for name in [*names, late])
    for status in finals.values():
        notes = [entry.note for entry in status.timeline]
        assert any(note.startswith("remediation unfrozen by sre") for note in notes), notes
        assert any(note.startswith("unfrozen; going ahead to apply") for note in notes), notes
