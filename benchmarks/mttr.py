"""MTTR benchmark: alert to RESOLVED for each auto-fixable chaos scenario, verification 1 s.

For every scenario whose fix is automatic, a private local stack (the real processes of
`selfheal up`, on free ports) is broken with it through the manifest repository; the
sandbox's monitor alerts, and the incident runs with SELFHEAL_AUTO_APPROVE=always,
SELFHEAL_ALLOW_DESTRUCTIVE=true (image rollbacks) and SELFHEAL_VERIFY_WINDOW=1s. Time to
recover is from the alert reaching selfheal (the incident's first timeline entry) to
RESOLVED (aim ≤ 10 s); the time from the break to the alert (the monitor's detection) is
printed beside it.

With `--prometheus` the alerts come the real way: Prometheus scrapes the sandbox, its rule
holds for 10 s and Alertmanager posts the webhook (the local stack's rules,
`selfheal_lab/local_monitoring.py`); the scenarios only metrics show join in, and the
symptom check runs in verification.

    python benchmarks/mttr.py [--mode gitops|direct] [--prometheus] [--scenario NAME ...]
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


def auto_fixable(prometheus: bool = False) -> list[str]:
    """Deployment scenarios with an automatic fix (the others escalate to a person by design;
    the sandbox's alert monitor follows Deployments only); those only metrics show need
    `prometheus`."""
    return [
        scenario.name
        for scenario in SCENARIOS.values()
        if scenario.fix_kind != "none"
        and scenario.kind == "Deployment"
        and (prometheus or not scenario.metrics_only)
    ]


async def measure(scenario: str, mode: str, prometheus: bool) -> tuple[float, float, str]:
    """(break → alert, alert → RESOLVED) seconds for one scenario, and how it ended."""
    settings = {
        "SELFHEAL_AUTO_APPROVE": "always",
        "SELFHEAL_VERIFY_WINDOW": "1s",
        "SELFHEAL_MODE": mode,
        # Rolling back an image is destructive; without this the rollback scenarios escalate.
        "SELFHEAL_ALLOW_DESTRUCTIVE": "true",
    }
    deployment = SCENARIOS[scenario].default_workload
    with private_stack(settings, prometheus=prometheus) as stack:
        client = await stack.client()
        since = await drive.break_workload(stack, scenario, deployment)
        incident_id = await watch.incident_about(client, deployment, since, timeout=180)
        final = await drive.see_through(client, incident_id, timeout=300, approve=False)
    first, last = final.timeline[0].at, final.timeline[-1].at
    outcome = final.state.value
    if final.state != IncidentState.RESOLVED:
        outcome += f": {final.escalation_reason}"
    return (first - since).total_seconds(), (last - first).total_seconds(), outcome


async def main(scenarios: list[str], mode: str, prometheus: bool) -> int:
    alerts = "Prometheus -> Alertmanager" if prometheus else "the sandbox monitor"
    print(f"mode {mode}, auto-approve always, verification window 1 s, alerts by {alerts}")
    print(f"{'scenario':<18} {'detect':>8} {'alert→RESOLVED':>15}  outcome")
    worst = 0.0
    failed = False
    for scenario in scenarios:
        detect, recover, outcome = await measure(scenario, mode, prometheus)
        print(f"{scenario:<18} {detect:7.1f}s {recover:14.1f}s  {outcome}", flush=True)
        worst = max(worst, recover)
        failed = failed or not outcome.startswith("RESOLVED")
    print(f"worst alert→RESOLVED {worst:.1f} s (aim ≤ {AIM_SECONDS:.0f} s)")
    return 1 if failed or worst > AIM_SECONDS else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("gitops", "direct"), default="gitops")
    parser.add_argument(
        "--prometheus", action="store_true", help="alerts by real Prometheus and Alertmanager"
    )
    parser.add_argument("--scenario", action="append", choices=auto_fixable(prometheus=True))
    args = parser.parse_args()
    chosen = args.scenario or auto_fixable(args.prometheus)
    code = asyncio.run(main(chosen, args.mode, args.prometheus))
    sys.stdout.flush()
    os._exit(code)
