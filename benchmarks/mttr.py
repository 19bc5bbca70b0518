"""MTTR benchmark: alert to RESOLVED for each auto-fixable chaos scenario, verification 1 s.

For every scenario whose fix is automatic, a private local stack (the real processes of
`selfheal up`, on free ports) is broken with it through the manifest repository; the
sandbox's monitor alerts, and the incident runs with SELFHEAL_AUTO_APPROVE=always,
SELFHEAL_ALLOW_DESTRUCTIVE=true (image rollbacks) and SELFHEAL_VERIFY_WINDOW=1s. Time to
recover is from the alert reaching selfheal (the incident's first timeline entry) to
RESOLVED (aim ≤ 10 s); the time from the break to the alert (the monitor's detection) is
printed beside it.

    python benchmarks/mttr.py [--mode gitops|direct] [--scenario NAME ...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from selfheal.chaos.scenarios import SCENARIOS
from selfheal.model.incident import IncidentState
from selfheal_lab import watch
from selfheal_lab.experiments import drive
from selfheal_lab.experiments.stack import private_stack

AIM_SECONDS = 10.0


def auto_fixable() -> list[str]:
    """Deployment scenarios with an automatic fix (the others escalate to a person by design;
    the sandbox's alert monitor follows Deployments only), seen by that monitor (not the
    ones only Prometheus sees)."""
    return [
        scenario.name
        for scenario in SCENARIOS.values()
        if scenario.fix_kind != "none"
        and scenario.kind == "Deployment"
        and not scenario.metrics_only
    ]


async def measure(scenario: str, mode: str) -> tuple[float, float, str]:
    """(break → alert, alert → RESOLVED) seconds for one scenario, and how it ended."""
    settings = {
        "SELFHEAL_AUTO_APPROVE": "always",
        "SELFHEAL_VERIFY_WINDOW": "1s",
        "SELFHEAL_MODE": mode,
        # Rolling back an image is destructive; without this the rollback scenarios escalate.
        "SELFHEAL_ALLOW_DESTRUCTIVE": "true",
    }
    deployment = SCENARIOS[scenario].default_workload
    with private_stack(settings) as stack:
        client = await stack.client()
        since = await drive.break_workload(stack, scenario, deployment)
        incident_id = await watch.incident_about(client, deployment, since, timeout=180)
        final = await drive.see_through(client, incident_id, timeout=300, approve=False)
    first, last = final.timeline[0].at, final.timeline[-1].at
    outcome = final.state.value
    if final.state != IncidentState.RESOLVED:
        outcome += f": {final.escalation_reason}"
    return (first - since).total_seconds(), (last - first).total_seconds(), outcome


async def main(scenarios: list[str], mode: str) -> int:
    print(f"mode {mode}, auto-approve always, verification window 1 s")
    print(f"{'scenario':<18} {'detect':>8} {'alert→RESOLVED':>15}  outcome")
    worst = 0.0
    failed = False
    for scenario in scenarios:
        detect, recover, outcome = await measure(scenario, mode)
        print(f"{scenario:<18} {detect:7.1f}s {recover:14.1f}s  {outcome}", flush=True)
        worst = max(worst, recover)
        failed = failed or not outcome.startswith("RESOLVED")
    print(f"worst alert→RESOLVED {worst:.1f} s (aim ≤ {AIM_SECONDS:.0f} s)")
    return 1 if failed or worst > AIM_SECONDS else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("gitops", "direct"), default="gitops")
    parser.add_argument("--scenario", action="append", choices=auto_fixable())
    args = parser.parse_args()
    code = asyncio.run(main(args.scenario or auto_fixable(), args.mode))
    sys.stdout.flush()
    os._exit(code)
