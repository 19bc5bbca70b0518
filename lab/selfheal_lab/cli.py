"""The lab's commands: `selfheal up`, `down`, `demo`, `sandbox serve|load`, `chaos experiment`.

The `selfheal` CLI adds them through the `selfheal.commands` entry points of the lab's
pyproject.toml: `commands` joins the top level, `chaos_commands` joins `selfheal chaos`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from selfheal.cli.terminal import err, finish, out, refuse, run, settings_or_exit
from selfheal.connection import connect
from selfheal_lab.settings import LabSettings, load_lab_settings

commands = typer.Typer()
chaos_commands = typer.Typer()
sandbox_app = typer.Typer(
    help="The local stand-ins (Kubernetes, GitHub, JIRA).", no_args_is_help=True
)
commands.add_typer(sandbox_app, name="sandbox")


def _settings() -> LabSettings:
    return settings_or_exit(load_lab_settings)


PrometheusOption = Annotated[
    bool | None,
    typer.Option(
        "--prometheus/--no-prometheus",
        help="Raise the sandbox's alerts with real Prometheus and Alertmanager (default: "
        "when installed) or with the sandbox's own monitor",
        show_default=False,
    ),
]


@commands.command()
def up(
    sandbox: Annotated[
        bool, typer.Option(help="Start the sandbox cluster, GitHub and JIRA stand-ins")
    ] = True,
    prometheus: PrometheusOption = None,
) -> None:
    """Start the local stack (Temporal dev server, sandbox, worker, webhook, and Prometheus
    with Alertmanager when installed), or reuse it."""
    from selfheal_lab.local_stack import LocalStack, StackError, StackPorts, stack_environment

    settings = _settings()
    stack = LocalStack(settings.home, StackPorts.from_settings(settings))
    env = stack_environment(stack.layout.env_file, with_sandbox=sandbox)
    try:
        info = stack.up(with_sandbox=sandbox, with_webhook=True, env=env, prometheus=prometheus)
    except StackError as failure:
        refuse(str(failure))
    out.print(f"Temporal UI   {info.temporal['ui']}")
    out.print(f"Temporal      {info.temporal['address']}")
    for name in ("kubernetes", "github", "jira", "webhook", "prometheus", "alertmanager"):
        part = getattr(info, name)
        if part:
            out.print(f"{name:<13} {part.get('url', '')}")
    _print_alerts(info.alerts)
    out.print(f"stack file    {stack.layout.stack_file}")
    finish(0)


def _print_alerts(alerts: dict[str, str]) -> None:
    """Say who raises the sandbox's alerts, and why."""
    from selfheal_lab.local_monitoring import PROMETHEUS_SOURCE

    if not alerts:
        return
    who = (
        "real Prometheus -> Alertmanager -> webhook"
        if alerts["source"] == PROMETHEUS_SOURCE
        else "the sandbox's own alert monitor"
    )
    out.print(f"alerts        {who} ({alerts.get('why', '')})", markup=False)


@commands.command()
def demo(
    scenario: Annotated[str, typer.Option("--scenario", help="See `selfheal chaos list`")] = "oom",
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the end")] = 300,
    prometheus: PrometheusOption = None,
) -> None:
    """The whole loop on the sandbox; exit 0 only when the incident is RESOLVED."""
    from github import Auth, Github
    from kubernetes import config as kube_config

    from selfheal.chaos.injection import DEFAULT_NAMESPACE as DEMO_NAMESPACE
    from selfheal.chaos.injection import ChaosRefused
    from selfheal.chaos.scenarios import get_scenario
    from selfheal.chaos.through_git import inject_through_repository
    from selfheal_lab.demo import follow_incident, now
    from selfheal_lab.local_stack import LocalStack, StackError, StackPorts, stack_environment
    from selfheal_lab.sandbox.slack.control import SlackControl

    settings = _settings()
    try:
        get_scenario(scenario)
    except KeyError as unknown:
        err.print(str(unknown.args[0]), markup=False)
        finish(2)
    stack = LocalStack(settings.home, StackPorts.from_settings(settings))
    env = stack_environment(stack.layout.env_file, with_sandbox=True)
    reused = stack.current() is not None
    try:
        info = stack.up(with_sandbox=True, with_webhook=True, env=env, prometheus=prometheus)
        if reused:
            out.print("reusing the running stack; starting the sandbox afresh")
            info = stack.restart_sandbox(env)
    except StackError as failure:
        refuse(str(failure))
    out.print(f"Temporal UI: {info.temporal['ui']}")
    _print_alerts(info.alerts)
    closed = run(lambda: _close_stale(DEMO_NAMESPACE))
    if closed:
        out.print(f"terminated {closed} open incident(s) left by an earlier demo run")
    api = kube_config.new_client_from_config(config_file=info.kubernetes["kubeconfig"])
    github = Github(base_url=info.github["url"], auth=Auth.Token("sandbox-developer"))
    since = now()
    try:
        injected = inject_through_repository(api, github.get_repo(info.github["repo"]), scenario)
    except ChaosRefused as refused:
        refuse(str(refused))
    out.print(f"injected chaos [bold]{scenario}[/] into {injected.namespace}/{injected.workload}")

    slack = SlackControl(info.slack["url"]) if info.slack else None
    alerts_by = "Prometheus" if info.prometheus else "the sandbox monitor"

    async def follow() -> bool:
        client = await connect()
        outcome = await follow_incident(
            client, settings, out, injected.workload, since, timeout, slack, alerts_by
        )
        style = "bold green" if outcome.resolved else "bold red"
        out.print(f"\n[{style}]{outcome.message}[/]")
        return outcome.resolved

    finish(0 if run(follow) else 1)


async def _close_stale(namespace: str) -> int:
    from selfheal_lab.demo import close_stale_incidents

    return await close_stale_incidents(await connect(), namespace)


@commands.command()
def down() -> None:
    """Stop the local stack (the Temporal database is kept)."""
    from selfheal_lab.local_stack import LocalStack

    stopped = LocalStack(_settings().home).down()
    out.print(f"stopped: {', '.join(stopped)}" if stopped else "no local stack is running")
    finish(0)


@sandbox_app.command("serve")
def sandbox_serve(
    ready_file: Annotated[
        Path | None, typer.Option(help="Written with the URLs once serving")
    ] = None,
) -> None:
    """Run every stand-in in this process until SIGTERM (`selfheal up` starts it for you)."""
    from selfheal.observability import configure_logging
    from selfheal_lab.sandbox.stack import SandboxPorts, SandboxStack, serve

    settings = load_lab_settings()
    configure_logging(settings.log_format)
    settings.home.mkdir(parents=True, exist_ok=True)
    secret = settings.github_webhook_secret
    token = settings.webhook_token
    slack_secret = settings.slack_signing_secret
    stack = SandboxStack(
        settings.home.resolve(),
        webhook_url=f"http://127.0.0.1:{settings.webhook_port}",
        webhook_token=token.get_secret_value() if token else None,
        github_webhook_secret=secret.get_secret_value() if secret else None,
        slack_signing_secret=slack_secret.get_secret_value() if slack_secret else None,
        ports=SandboxPorts(
            kubernetes=settings.sandbox_kubernetes_port,
            github=settings.sandbox_github_port,
            jira=settings.sandbox_jira_port,
            slack=settings.sandbox_slack_port,
        ),
        cluster=settings.cluster,
        alert_monitor=settings.sandbox_alert_monitor,
    )
    serve(stack, ready_file)


@sandbox_app.command("load")
def sandbox_load(
    directory: Annotated[
        Path, typer.Argument(help="A snapshot directory", exists=True, file_okay=False)
    ],
) -> None:
    """Load a snapshot into the running sandbox cluster (pods keep their captured status)."""
    from selfheal_lab.local_stack import StackInfo
    from selfheal_lab.sandbox.kube.snapshot import load_snapshot

    settings = load_lab_settings()
    info = StackInfo.read(settings.home / "stack.json")
    if info is None or not info.kubernetes:
        err.print("the sandbox is not running: `selfheal up` first", markup=False)
        raise typer.Exit(1)
    loaded = load_snapshot(directory, info.kubernetes["url"])
    out.print(f"loaded {loaded}")


@chaos_commands.command(
    "experiment",
    context_settings={
        "allow_extra_args": True,
        "ignore_unknown_options": True,
        "help_option_names": [],  # --help goes to the experiment's own parser
    },
)
def chaos_experiment(ctx: typer.Context) -> None:
    """Chaos against selfheal itself on a private stack: worker-kill, temporal-restart,
    outage, refusal, storm (options: `selfheal chaos experiment NAME --help`)."""
    from selfheal_lab.experiments.__main__ import main as run_experiment

    raise typer.Exit(run_experiment(list(ctx.args)))
