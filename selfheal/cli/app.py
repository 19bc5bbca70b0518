"""The `selfheal` command: run the processes, send alerts, and make decisions on incidents.

Exit codes: 0 done, 1 refused (the reason on stderr), 2 usage.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from selfheal.activities.permits import read_freeze
from selfheal.cli.cluster import chaos_app, diagnose, snapshot
from selfheal.cli.render import incident_table, print_status
from selfheal.cli.terminal import err, finish, out, run, settings_or_exit
from selfheal.client import decisions, kill_switch
from selfheal.client.incidents import deliver_alert, incident_ui_url, wait_until_open
from selfheal.client.listing import list_incidents, worker_last_seen, worker_silent
from selfheal.connection import connect
from selfheal.model.alerts import Alert
from selfheal.model.decisions import Approval, ManualResolution, Rejection, RetryRequest
from selfheal.model.guard import FreezeRequest, UnfreezeRequest
from selfheal.settings import Settings, load_settings

app = typer.Typer(
    name="selfheal",
    help="Durable, AI-assisted incident remediation for Kubernetes, built on Temporal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _settings() -> Settings:
    return settings_or_exit(load_settings)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


# --- incidents -------------------------------------------------------------------------------

By = Annotated[str, typer.Option("--by", help="Who decides (recorded in the timeline)")]
Proposal = Annotated[
    str,
    typer.Option(
        "--proposal",
        help="The proposal's digest (`selfheal show`): refused if the incident now proposes "
        "something else",
    ),
]


@app.command()
def trigger(
    file: Annotated[Path, typer.Option("--file", "-f", help="selfheal Alert JSON", exists=True)],
) -> None:
    """Start or join an incident from an alert file (selfheal's Alert JSON)."""
    settings = _settings()
    try:
        alert = Alert.model_validate_json(file.read_text())
    except ValidationError as invalid:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in invalid.errors()
        )
        err.print(f"invalid alert in {file}: {problems}", markup=False)
        finish(2)

    async def send() -> None:
        client = await connect()
        delivery = await deliver_alert(
            client,
            alert,
            settings.task_queue,
            settings.temporal_ui_url,
            settings.cluster,
            settings.workload_task_queue(),
        )
        if delivery.deduplicated:
            out.print(f"joined incident [bold]{delivery.incident_id}[/]")
        elif await wait_until_open(client, delivery.incident_id):
            out.print(f"started incident [bold]{delivery.incident_id}[/]")
        elif delivery.incident_id:
            out.print(
                f"queued: incident [bold]{delivery.incident_id}[/] opens when a worker runs "
                f"(workload {delivery.workflow_id})"
            )
        else:
            out.print(f"{delivery.note} (workload {delivery.workflow_id})")
        out.print(f"UI: {delivery.ui_url}")

    run(send)
    finish(0)


@app.command("list")
def list_command(
    state: Annotated[str | None, typer.Option("--state", help="e.g. AWAITING_REVIEW")] = None,
    service: Annotated[str | None, typer.Option("--service", help="Deployment name")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Stable JSON output")] = False,
) -> None:
    """List incidents from Temporal visibility, newest first."""

    settings = _settings()

    async def fetch() -> None:
        client = await connect()
        incidents = await list_incidents(client, state=state, service=service)
        switch = await read_freeze(client, settings.guard_workflow_id)
        if as_json:
            _print_json([incident.model_dump(mode="json") for incident in incidents])
            return
        last_seen = await worker_last_seen(client, settings.task_queue)
        if worker_silent(last_seen, datetime.now(UTC)):
            since = f"since {last_seen:%Y-%m-%d %H:%M:%S} UTC" if last_seen else "ever"
            out.print(
                f"[bold yellow]no worker has polled {settings.task_queue} {since}[/]: each "
                "incident shows what it last published; none moves until a worker runs"
            )
        if switch.frozen:
            out.print(
                f"[bold red]REMEDIATION FROZEN[/] by {switch.by}"
                f" since {switch.at:%Y-%m-%d %H:%M} UTC: {switch.reason or 'no reason'}"
            )
        out.print(incident_table(incidents, width=out.width))

    run(fetch)
    finish(0)


@app.command()
def show(
    incident_id: Annotated[str, typer.Argument(help="Incident (workflow) id")],
    as_json: Annotated[bool, typer.Option("--json", help="Stable JSON output")] = False,
) -> None:
    """Show an incident: state, diagnosis, fix, pull request, ticket and timeline."""
    settings = _settings()

    async def fetch() -> None:
        client = await connect()
        reading = await decisions.read_incident(client, incident_id)
        if as_json:
            as_of = reading.as_of.isoformat() if reading.as_of else None
            report = reading.status.model_dump(mode="json")
            _print_json(report | {"read_from": reading.source, "as_of": as_of})
            return
        if reading.source == "published":
            when = f"{reading.as_of:%Y-%m-%d %H:%M:%S} UTC" if reading.as_of else "unknown"
            out.print(
                "[bold yellow]no worker is answering[/] (not running, or too busy): this is "
                f"what the incident last published, as of {when}; decisions sent now are "
                "acted on when a worker runs again"
            )
        ui = incident_ui_url(settings.temporal_ui_url, client.namespace, incident_id)
        print_status(out, reading.status, ui)

    run(fetch)
    finish(0)


def _decide(incident_id: str, send: Callable[[Any], Awaitable[Any]], done: str) -> None:
    async def act() -> None:
        client = await connect()
        ack = await send(client)
        out.print(f"{done} [bold]{incident_id}[/] (now {ack.state.value})")
        if ack.note and ack.note not in ("approved", "rejected", "retrying", "resolving"):
            out.print(ack.note, markup=False)

    run(act)
    finish(0)


@app.command()
def approve(
    incident_id: Annotated[str, typer.Argument(help="Incident (workflow) id")],
    by: By,
    comment: Annotated[str, typer.Option("--comment", help="Why")] = "",
    proposal: Proposal = "",
) -> None:
    """Approve the proposed fix of an incident awaiting review or approval."""
    approval = Approval(by=by, comment=comment, proposal=proposal, channel="cli")
    _decide(incident_id, lambda c: decisions.approve(c, incident_id, approval), "approved")


@app.command()
def reject(
    incident_id: Annotated[str, typer.Argument(help="Incident (workflow) id")],
    by: By,
    reason: Annotated[str, typer.Option("--reason", help="Why the fix is wrong")],
    proposal: Proposal = "",
) -> None:
    """Reject the proposed fix; the incident escalates."""
    rejection = Rejection(by=by, reason=reason, proposal=proposal, channel="cli")
    _decide(incident_id, lambda c: decisions.reject(c, incident_id, rejection), "rejected")


@app.command()
def retry(
    incident_id: Annotated[str, typer.Argument(help="Incident (workflow) id")],
    by: By,
    note: Annotated[str, typer.Option("--note", help="What changed")] = "",
) -> None:
    """Send an ESCALATED incident back to analysis."""
    request = RetryRequest(by=by, note=note)
    _decide(incident_id, lambda c: decisions.retry(c, incident_id, request), "retrying")


@app.command()
def resolve(
    incident_id: Annotated[str, typer.Argument(help="Incident (workflow) id")],
    by: By,
    note: Annotated[str, typer.Option("--note", help="What was done")] = "",
) -> None:
    """Close an ESCALATED incident as resolved by hand."""
    request = ManualResolution(by=by, note=note)
    _decide(incident_id, lambda c: decisions.resolve(c, incident_id, request), "resolved")


# --- kill switch -----------------------------------------------------------------------------


@app.command()
def freeze(
    by: By,
    reason: Annotated[str, typer.Option("--reason", help="Why everything must stop")] = "",
) -> None:
    """Halt all remediation now, across running incidents, until `unfreeze` (survives restarts)."""
    settings = _settings()

    async def act() -> None:
        client = await connect()
        state, told = await kill_switch.turn(
            client,
            settings.guard_workflow_id,
            settings.guard_task_queue(),
            FreezeRequest(by=by, reason=reason),
        )
        out.print(f"[bold red]remediation frozen[/] by {state.by}; {told} running incident(s) told")

    run(act)
    finish(0)


@app.command()
def unfreeze(by: By) -> None:
    """Let remediation resume; waiting incidents continue where they were."""
    settings = _settings()

    async def act() -> None:
        client = await connect()
        state, told = await kill_switch.turn(
            client, settings.guard_workflow_id, settings.guard_task_queue(), UnfreezeRequest(by=by)
        )
        out.print(f"[green]remediation unfrozen[/] by {state.by}; {told} running incident(s) told")

    run(act)
    finish(0)


# --- processes -------------------------------------------------------------------------------


@app.command()
def worker() -> None:
    """Run the worker: IncidentWorkflow and every activity (production process)."""
    from selfheal.observability import configure_logging
    from selfheal.workers.worker import run_worker

    settings = _settings()
    configure_logging(settings.log_format)
    asyncio.run(run_worker(settings))
    finish(0)


@app.command()
def webhook() -> None:
    """Run the webhook server: alerts in (production process)."""
    from selfheal.webhook.app import WebhookConfigError, serve
    from selfheal.webhook.service_map import ServiceMapError

    try:
        serve(_settings())
    except (WebhookConfigError, ServiceMapError) as refused:
        err.print(f"webhook not started: {refused}", markup=False)
        finish(2)
    finish(0)


app.add_typer(chaos_app, name="chaos")
app.command()(snapshot)
app.command()(diagnose)


# --- commands of other installed distributions -----------------------------------------------

COMMANDS_GROUP = "selfheal.commands"
"""The entry-point group through which an installed distribution adds commands: the lab adds
`up`, `down`, `demo` and `sandbox` under `selfheal`, and `experiment` under `selfheal.chaos`."""


def add_installed_commands() -> None:
    """Add the commands each installed distribution declares in `COMMANDS_GROUP`.

    An entry point's name is the command group it joins (`selfheal` or `selfheal.chaos`) and
    it resolves to a Typer app whose commands are added there. With only the product
    installed there are none, and `up`, `demo` and the rest are simply absent.
    """
    groups = {"selfheal": app, "selfheal.chaos": chaos_app}
    for entry in entry_points(group=COMMANDS_GROUP):
        group = groups.get(entry.name)
        if group is None:
            raise RuntimeError(
                f"{entry.value} adds commands to {entry.name!r}, which is none of {sorted(groups)}"
            )
        group.add_typer(entry.load())


add_installed_commands()


def main() -> None:
    """Entry point of the `selfheal` console script."""
    app()
