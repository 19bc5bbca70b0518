"""Experiment `temporal-restart`: stop the Temporal dev server mid-run, restart it on its database.

Three workloads break at once (auto-approve on and destructive fixes such as an image
rollback allowed, so nobody has to act); once their
incidents are open the dev server is stopped (SIGTERM) for `down_seconds`, then started
again on the same SQLite file. Every incident must still resolve, with no duplicate pull
request, ticket or spec change. The worker and webhook are left alone: they must ride
out the outage by themselves (whether they did is printed).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable

from selfheal.model.incident import IncidentState
from selfheal_lab import watch
from selfheal_lab.experiments import drive, observe
from selfheal_lab.experiments.figures import Figures
from selfheal_lab.experiments.stack import private_stack
from selfheal_lab.local_stack import pid_alive

NAMESPACE = "demo"
BREAKS = (("oom", "payments"), ("crashloop", "checkout"), ("replica-shortage", "catalog"))


async def run(
    down_seconds: float = 10, timeout: float = 300, say: Callable[[str], None] = print
) -> Figures:
    """Break three workloads, restart Temporal under their incidents, count the outcome."""
    figures = Figures("temporal-restart")
    started = time.monotonic()
    settings = {"SELFHEAL_AUTO_APPROVE": "always", "SELFHEAL_ALLOW_DESTRUCTIVE": "true"}
    with private_stack(settings) as stack:
        client = await stack.client()
        since = drive.now()
        for scenario, deployment in BREAKS:
            await drive.break_workload(stack, scenario, deployment)
        ids = [
            await watch.incident_about(client, deployment, since, timeout=120)
            for _, deployment in BREAKS
        ]
        generations = observe.deployment_generations(stack.kubernetes(), NAMESPACE)
        states = [(await drive.reach(client, i, _ALL, 60)).state.value for i in ids]
        say(f"  incidents open ({', '.join(states)}); stopping the Temporal server")
        worker, webhook = stack.pid("worker"), stack.pid("webhook")
        stack.kill("temporal", signal.SIGTERM)
        await asyncio.sleep(down_seconds)
        stack.up()
        back_at = drive.now()
        say(f"  Temporal back after {down_seconds:.0f} s on the same database")
        client = await stack.client()
        figures.extra["worker survived"] = pid_alive(worker) and stack.pid("worker") == worker
        figures.extra["webhook survived"] = pid_alive(webhook) and stack.pid("webhook") == webhook
        finals = {i: await drive.see_through(client, i, timeout) for i in ids}
        progress = [e.at for s in finals.values() for e in s.timeline if e.at >= back_at]
        if progress:
            seconds = (min(progress) - back_at).total_seconds()
            figures.recovery_seconds["Temporal back → first transition"] = seconds
        last = max(e.at for s in finals.values() for e in s.timeline)
        figures.recovery_seconds["Temporal back → all resolved"] = (last - back_at).total_seconds()
        incidents = await observe.statuses(client, await observe.incident_ids(client))
        observe.tally(figures, incidents, dict.fromkeys(ids, IncidentState.RESOLVED))
        effects = observe.side_effects(
            stack.repository(), stack.jira(), stack.kubernetes(), NAMESPACE, generations, incidents
        )
        figures.duplicate_prs = effects.duplicate_prs
        figures.duplicate_tickets = effects.duplicate_tickets
        figures.duplicate_mutations = effects.duplicate_mutations
        for note in effects.notes:
            figures.fail(note)
    figures.elapsed_seconds = time.monotonic() - started
    return figures


_ALL = frozenset(IncidentState)
