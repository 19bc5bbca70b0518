"""The `selfheal` command: run the stack, send alerts, and make decisions on incidents.

Exit codes: 0 done, 1 refused (the reason on stderr), 2 usage.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from temporalio.service import RPCError

from selfheal.activities.guard import read_freeze
from selfheal.connection import connect
from selfheal.domain import (
    Alert,
    Approval,
    FreezeRequest,
    ManualResolution,
    Rejection,
    RetryRequest,
    UnfreezeRequest,
)
from selfheal.settings import Settings, load_settings
from selfheal.starters import decisions, kill_switch
from selfheal.starters.cluster_cli import chaos_app, diagnose, sandbox_app, snapshot
from selfheal.starters.decisions import Refused
from selfheal.starters.incidents import deliver_alert, incident_ui_url, wait_until_open
from selfheal.starters.listing import list_incidents, worker_last_seen, worker_silent
from selfheal.starters.render import incident_table, print_status

app = typer.Typer(
    name="selfheal",
    help="Durable, AI-assisted incident remediation for Kubernetes, built on Temporal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

T = TypeVar("T")


def _finish(code: int = 0) -> NoReturn:
    """Flush and leave at once: the SDK can crash at interpreter exit (sdk-python#300)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _refuse(message: str) -> NoReturn:
    err.print(f"[red]refused:[/] {message}", markup=True, highlight=False)
    _finish(1)


def _run(work: Callable[[], Awaitable[T]]) -> T:
    """Run async work; turn refusals and an unreachable Temporal into exit code 1."""
    try:
        return asyncio.run(work())  # type: ignore[arg-type]
    except Refused as refusal:
        _refuse(str(refusal))
    except RPCError as rpc:
        _refuse(f"Temporal answered {rpc.status.name if rpc.status else 'an error'}: {rpc}")
    except RuntimeError as failure:
        if "connect" in str(failure).lower():
            _refuse(f"cannot reach Temporal: {failure}")
        raise


def _settings() -> Settings:
    try:
        return load_settings()
    except ValidationError as invalid:
        err.print(f"invalid configuration:\n{invalid}", markup=False)
        _finish(2)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


# --- incidents -------------------------------------------------------------------------------

By = Annotated[str, typer.Option("--by", help="Who decides (recorded in the timeline)")]


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
        _finish(2)

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
        else:
            out.print(
                f"queued: incident [bold]{delivery.incident_id}[/] opens when a worker runs "
                f"(workload {delivery.workflow_id})"
            )
        out.print(f"UI: {delivery.ui_url}")

    _run(send)
    _finish(0)


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
        out.print(incident_table(incidents))

    _run(fetch)
    _finish(0)


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

    _run(fetch)
    _finish(0)


def _decide(incident_id: str, send: Callable[[Any], Awaitable[Any]], done: str) -> None:
    async def act() -> None:
        client = await connect()
        ack = await send(client)
        out.print(f"{done} [bold]{incident_id}[/] (now {ack.state.value})")
        if ack.note and ack.note not in ("approved", "rejected", "retrying", "resolving"):
            out.print(ack.note, markup=False)

    _run(act)
    _finish(0)


@app.command()
def approve(
    incident_id: Annotated[str, typer.Argument(help="Incident (workflow) id")],
    by: By,
    comment: Annotated[str, typer.Option("--comment", help="Why")] = "",
) -> None:
    """Approve the proposed fix of an incident awaiting review or approval."""
    approval = Approval(by=by, comment=comment)
    _decide(incident_id, lambda c: decisions.approve(c, incident_id, approval), "approved")


@app.command()
def reject(
    incident_id: Annotated[str, typer.Argument(help="Incident (workflow) id")],
    by: By,
    reason: Annotated[str, typer.Option("--reason", help="Why the fix is wrong")],
) -> None:
    """Reject the proposed fix; the incident escalates."""
    rejection = Rejection(by=by, reason=reason)
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

    _run(act)
    _finish(0)


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

    _run(act)
    _finish(0)


# --- processes -------------------------------------------------------------------------------


@app.command()
def worker() -> None:
    """Run the worker: IncidentWorkflow and every activity (production process)."""
    from selfheal.observability import configure_logging
    from selfheal.workers.worker import run_worker

    settings = _settings()
    configure_logging(settings.log_format)
    asyncio.run(run_worker(settings))
    _finish(0)


@app.command()
def up(
    sandbox: Annotated[
        bool, typer.Option(help="Start the sandbox cluster, GitHub and JIRA stand-ins")
    ] = True,
) -> None:
    """Start the local stack (Temporal dev server, sandbox, worker, webhook), or reuse it."""
    from selfheal.stack.local import LocalStack, StackError, StackPorts, stack_environment

    settings = _settings()
    stack = LocalStack(settings.home, StackPorts.from_settings(settings))
    env = stack_environment(stack.layout.env_file, with_sandbox=sandbox)
    try:
        info = stack.up(with_sandbox=sandbox, with_webhook=True, env=env)
    except StackError as failure:
        _refuse(str(failure))
    out.print(f"Temporal UI   {info.temporal['ui']}")
    out.print(f"Temporal      {info.temporal['address']}")
    for name in ("kubernetes", "github", "jira", "webhook"):
        part = getattr(info, name)
        if part:
            out.print(f"{name:<13} {part.get('url', '')}")
    out.print(f"stack file    {stack.layout.stack_file}")
    _finish(0)


@app.command()
def webhook() -> None:
    """Run the webhook server: alerts in (production process)."""
    from selfheal.starters.webhook import ServiceMapError, WebhookConfigError, serve

    try:
        serve(_settings())
    except (WebhookConfigError, ServiceMapError) as refused:
        err.print(f"webhook not started: {refused}", markup=False)
        _finish(2)
    _finish(0)


@app.command()
def demo(
    scenario: Annotated[str, typer.Option("--scenario", help="See `selfheal chaos list`")] = "oom",
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the end")] = 300,
) -> None:
    """The whole loop on the sandbox; exit 0 only when the incident is RESOLVED."""
    from github import Auth, Github
    from kubernetes import config as kube_config

    from selfheal.chaos.injection import DEFAULT_NAMESPACE as DEMO_NAMESPACE
    from selfheal.chaos.injection import ChaosRefused
    from selfheal.chaos.scenarios import get_scenario
    from selfheal.chaos.through_git import inject_through_repository
    from selfheal.stack.local import LocalStack, StackError, StackPorts, stack_environment
    from selfheal.starters.demo import follow_incident, now

    settings = _settings()
    try:
        get_scenario(scenario)
    except KeyError as unknown:
        err.print(str(unknown.args[0]), markup=False)
        _finish(2)
    stack = LocalStack(settings.home, StackPorts.from_settings(settings))
    env = stack_environment(stack.layout.env_file, with_sandbox=True)
    reused = stack.current() is not None
    try:
        info = stack.up(with_sandbox=True, with_webhook=True, env=env)
        if reused:
            out.print("reusing the running stack; starting the sandbox afresh")
            info = stack.restart_sandbox(env)
    except StackError as failure:
        _refuse(str(failure))
    out.print(f"Temporal UI: {info.temporal['ui']}")
    closed = _run(lambda: _close_stale(DEMO_NAMESPACE))
    if closed:
        out.print(f"terminated {closed} open incident(s) left by an earlier demo run")
    api = kube_config.new_client_from_config(config_file=info.kubernetes["kubeconfig"])
    github = Github(base_url=info.github["url"], auth=Auth.Token("sandbox-developer"))
    since = now()
    try:
        injected = inject_through_repository(api, github.get_repo(info.github["repo"]), scenario)
    except ChaosRefused as refused:
        _refuse(str(refused))
    out.print(f"injected chaos [bold]{scenario}[/] into {injected.namespace}/{injected.deployment}")

    async def follow() -> bool:
        client = await connect()
        outcome = await follow_incident(client, settings, out, injected.deployment, since, timeout)
        style = "bold green" if outcome.resolved else "bold red"
        out.print(f"\n[{style}]{outcome.message}[/]")
        return outcome.resolved

    _finish(0 if _run(follow) else 1)


async def _close_stale(namespace: str) -> int:
    from selfheal.starters.demo import close_stale_incidents

    return await close_stale_incidents(await connect(), namespace)


@app.command()
def down() -> None:
    """Stop the local stack (the Temporal database is kept)."""
    from selfheal.stack.local import LocalStack

    stopped = LocalStack(_settings().home).down()
    out.print(f"stopped: {', '.join(stopped)}" if stopped else "no local stack is running")
    _finish(0)


app.add_typer(sandbox_app, name="sandbox")
app.add_typer(chaos_app, name="chaos")
app.command()(snapshot)
app.command()(diagnose)


def main() -> None:
    """Entry point of the `selfheal` console script."""
    app()
