"""`python -m selfheal_lab.experiments NAME [options]`: run one experiment, print its figures.

Exit codes: 0 passed, 1 a loss, duplicate or wrong ending, 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Coroutine, Sequence
from typing import Any

from selfheal.model.incident import IncidentState
from selfheal_lab.experiments import standin_faults, storm, temporal_restart, worker_kill
from selfheal_lab.experiments.figures import Figures
from selfheal_lab.experiments.standins import STANDINS


def parser() -> argparse.ArgumentParser:
    """The command line: one sub-command per experiment."""
    top = argparse.ArgumentParser(
        prog="python -m selfheal_lab.experiments",
        description="Chaos experiments against selfheal's own stack (a private one).",
    )
    top.add_argument("--json", action="store_true", help="print the figures as JSON")
    commands = top.add_subparsers(dest="experiment", required=True)

    kill = commands.add_parser("worker-kill", help="SIGKILL the worker in each incident state")
    kill.add_argument(
        "--state",
        action="append",
        choices=[state.value for state in worker_kill.STATES],
        help="a state to kill the worker in (repeatable; default: every one)",
    )

    restart = commands.add_parser("temporal-restart", help="stop and restart Temporal mid-run")
    restart.add_argument("--down-seconds", type=float, default=10)

    outage = commands.add_parser("outage", help="a stand-in answers 5xx or hangs for a while")
    outage.add_argument("--standin", action="append", choices=STANDINS)
    outage.add_argument("--mode", action="append", choices=standin_faults.MODES)
    outage.add_argument("--seconds", type=float, default=60)

    refusal = commands.add_parser("refusal", help="a stand-in answers 403 for good")
    refusal.add_argument("--standin", action="append", choices=STANDINS)

    alerts = commands.add_parser("storm", help="an alert storm through the webhook")
    alerts.add_argument("--alerts", type=int, default=10_000)
    alerts.add_argument("--workloads", type=int, default=100)
    alerts.add_argument("--group", type=int, default=50, help="alerts per notification")
    alerts.add_argument("--senders", type=int, default=8, help="notifications in flight")
    return top


def experiment(args: argparse.Namespace) -> Coroutine[Any, Any, Figures]:
    """The coroutine that runs the experiment the arguments name."""
    say = _say_to_stderr if args.json else _say
    if args.experiment == "worker-kill":
        states = tuple(IncidentState(s) for s in args.state or []) or worker_kill.STATES
        return worker_kill.run(states, say=say)
    if args.experiment == "temporal-restart":
        return temporal_restart.run(args.down_seconds, say=say)
    if args.experiment == "outage":
        return standin_faults.run_outages(
            tuple(args.standin or STANDINS),
            tuple(args.mode or standin_faults.MODES),
            args.seconds,
            say=say,
        )
    if args.experiment == "refusal":
        return standin_faults.run_refusals(tuple(args.standin or STANDINS), say=say)
    return storm.run(args.alerts, args.workloads, args.group, args.senders, say=say)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the experiment; 0 when it passed, 1 when it found a loss or a duplicate."""
    args = parser().parse_args(argv)
    figures = asyncio.run(experiment(args))
    print(figures.to_json() if args.json else figures.render(), flush=True)
    return 0 if figures.passed else 1


def _say(line: str) -> None:
    print(line, flush=True)


def _say_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # the SDK can crash at interpreter exit (sdk-python#300)
