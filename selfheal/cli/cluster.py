"""CLI commands about clusters: chaos scenarios, snapshots and offline diagnosis."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from selfheal.settings import load_settings

out = Console()
err = Console(stderr=True)

chaos_app = typer.Typer(
    help="Break a workload on purpose (sandbox or a real cluster).", no_args_is_help=True
)


def _api_client(kubeconfig: Path | None):  # type: ignore[no-untyped-def]
    """The official client for the configured cluster (KUBECONFIG, or the sandbox's)."""
    from kubernetes import config as kube_config

    settings = load_settings()
    path = kubeconfig or settings.kubeconfig or (settings.home / "kubeconfig")
    if not Path(path).exists():
        err.print(f"no kubeconfig at {path}: run `selfheal up` or set KUBECONFIG", markup=False)
        raise typer.Exit(1)
    return kube_config.new_client_from_config(config_file=str(path), context=settings.kube_context)


Kubeconfig = Annotated[
    Path | None, typer.Option("--kubeconfig", help="Default: KUBECONFIG or .selfheal/kubeconfig")
]


@chaos_app.command("list")
def chaos_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The scenarios, what each breaks, and the diagnosis and fix it should lead to."""
    from selfheal.chaos.scenarios import list_scenarios

    scenarios = list_scenarios()
    if as_json:
        sys.stdout.write(json.dumps(scenarios, indent=2) + "\n")
        return
    table = Table(title="chaos scenarios")
    columns = ("name", "kind", "description", "category", "fix_kind", "needs")
    for column in columns:
        table.add_column(column)
    for scenario in scenarios:
        table.add_row(*(scenario[c] for c in columns))
    out.print(table)


class Via(StrEnum):
    """Where a chaos scenario's change is made."""

    GIT = "git"
    CLUSTER = "cluster"


@chaos_app.command("inject")
def chaos_inject(
    name: Annotated[str, typer.Argument(help="Scenario name (see `selfheal chaos list`)")],
    namespace: Annotated[str, typer.Option("--namespace", "-n")] = "demo",
    deployment: Annotated[str | None, typer.Option("--deployment", "-d")] = None,
    via: Annotated[
        Via | None,
        typer.Option(
            "--via",
            help="git: commit the change to the workload's manifest (the default in gitops "
            "mode with a manifest repository); cluster: patch the live object",
        ),
    ] = None,
    kubeconfig: Kubeconfig = None,
) -> None:
    """Break a workload (the scenario's kind); only in namespaces labelled
    selfheal.dev/chaos=enabled."""
    from selfheal.chaos.injection import ChaosRefused, inject
    from selfheal.chaos.through_git import has_manifest, inject_through_repository

    api_client = _api_client(kubeconfig)
    repository = _manifest_repository()
    try:
        if via is None:
            manifest = repository is not None and has_manifest(
                api_client, name, namespace, deployment
            )
            via = Via.GIT if manifest else Via.CLUSTER
        chosen = via
        if chosen == Via.GIT:
            if repository is None:
                raise ChaosRefused(
                    "--via git needs the manifest repository (GITHUB_REPO, or a running "
                    "`selfheal up`) and SELFHEAL_MODE=gitops"
                )
            done = inject_through_repository(api_client, repository, name, namespace, deployment)
        else:
            done = inject(api_client, name, namespace, deployment)
    except (ChaosRefused, KeyError) as refused:
        err.print(f"refused: {refused}", markup=False)
        raise typer.Exit(1) from refused
    where = "committed to the manifest repository" if chosen == Via.GIT else "patched live"
    took = f"; started Job {done.job}" if done.job else ""
    took += f"; broke node {', '.join(done.nodes)}" if done.nodes else ""
    out.print(
        f"injected {done.scenario} into {done.namespace}/{done.workload} ({where}){took}",
        markup=False,
        soft_wrap=True,
    )


def _manifest_repository():  # type: ignore[no-untyped-def]
    """The GitOps manifest repository chaos commits to in gitops mode, or None: GITHUB_REPO
    when set, else the sandbox's while the local stack (`selfheal up`) runs."""
    from github import Auth, Github

    from selfheal.model.policy import RemediationMode

    settings = load_settings()
    if settings.mode != RemediationMode.GITOPS:
        return None
    if settings.github_repo:
        token = settings.github_token.get_secret_value() if settings.github_token else None
        auth = Auth.Token(token) if token else None
        return Github(base_url=settings.github_api_url, auth=auth).get_repo(settings.github_repo)
    sandbox = _local_stack_github(settings.home / "stack.json")
    if sandbox is None:
        return None
    github = Github(base_url=sandbox["url"], auth=Auth.Token("sandbox-developer"))
    return github.get_repo(sandbox["repo"])


def _local_stack_github(stack_file: Path) -> dict[str, str] | None:
    """The `github` entry (`url`, `repo`) of the stack file `selfheal up` writes, if any."""
    if not stack_file.exists():
        return None
    github = json.loads(stack_file.read_text()).get("github")
    return github if github and {"url", "repo"} <= set(github) else None


@chaos_app.command("clear")
def chaos_clear(
    namespace: Annotated[str, typer.Option("--namespace", "-n")] = "demo",
    deployment: Annotated[str, typer.Option("--deployment", "-d")] = "checkout",
    kubeconfig: Kubeconfig = None,
) -> None:
    """Undo the scenario injected into a workload: its template, replicas, nodes and Job."""
    from selfheal.chaos.injection import ChaosRefused, clear

    try:
        cleared = clear(_api_client(kubeconfig), namespace, deployment)
    except ChaosRefused as refused:
        err.print(f"refused: {refused}", markup=False)
        raise typer.Exit(1) from refused
    out.print(f"cleared {cleared}")


def snapshot(
    namespace: Annotated[str, typer.Option("--namespace", "-n")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write")],
    deployment: Annotated[str | None, typer.Option("--deployment", "-d")] = None,
    workload: Annotated[
        str | None,
        typer.Option(
            "--workload", "-w", help="KIND/NAME of any workload kind, e.g. statefulset/ledger"
        ),
    ] = None,
    kubeconfig: Kubeconfig = None,
) -> None:
    """Capture what the analysis reads (objects.yaml + logs/, and metrics/ when
    PROMETHEUS_URL is set) from a live cluster."""
    from temporalio.exceptions import ApplicationError

    from selfheal.activities.prometheus.client import clients_from
    from selfheal.snapshot_capture import capture_snapshot
    from selfheal.snapshots import read_metrics

    kind, name = _live_workload(workload, deployment)
    settings = load_settings()
    prometheus = clients_from(settings).prometheus
    try:
        path = capture_snapshot(
            _api_client(kubeconfig),
            namespace,
            name,
            out_dir,
            kind=kind,
            prometheus=prometheus,
            metrics_window=settings.metrics_window,
        )
    except ApplicationError as failure:
        err.print(f"no snapshot: {failure.message}", markup=False)
        raise typer.Exit(1) from failure
    out.print(f"snapshot written to {path}")
    metrics = read_metrics(path)
    if metrics is None:
        out.print("no metrics: PROMETHEUS_URL is unset", markup=False)
    elif metrics.note:
        out.print(f"metrics: {metrics.note}", markup=False)


def _workload_option(value: str | None) -> tuple[str | None, str | None]:
    """`KIND/NAME` (or a bare `NAME`) as (kind, name); the kind as the API spells it."""
    from selfheal.contracts.kubernetes import WORKLOAD_KINDS

    if value is None:
        return None, None
    kind, _, name = value.rpartition("/")
    if not kind:
        return None, name
    spelled = {known.lower(): known for known in WORKLOAD_KINDS}
    if kind.lower() not in spelled:
        err.print(
            f"--workload {value}: the kind must be one of {', '.join(WORKLOAD_KINDS)}",
            markup=False,
        )
        raise typer.Exit(2)
    return spelled[kind.lower()], name


def _live_workload(workload: str | None, deployment: str | None) -> tuple[str, str]:
    """The live workload `--workload KIND/NAME` or `--deployment NAME` names (one of them);
    exit 2 when neither or both are given, or the kind is missing."""
    if (workload is None) == (deployment is None):
        err.print("give --workload KIND/NAME, or --deployment NAME", markup=False)
        raise typer.Exit(2)
    if deployment is not None:
        return "Deployment", deployment
    kind, name = _workload_option(workload)
    if kind is None or not name:
        err.print(f"--workload {workload}: name it as KIND/NAME, e.g. statefulset/ledger")
        raise typer.Exit(2)
    return kind, name


def diagnose(
    snapshot_dir: Annotated[
        Path | None,
        typer.Option("--snapshot", help="A snapshot directory", exists=True, file_okay=False),
    ] = None,
    workload: Annotated[
        str | None,
        typer.Option(
            "--workload",
            "-w",
            help="KIND/NAME in the snapshot (default: its top-level workload), e.g. "
            "cronjob/nightly-report",
        ),
    ] = None,
    namespace: Annotated[str | None, typer.Option("--namespace", "-n")] = None,
    deployment: Annotated[str | None, typer.Option("--deployment", "-d")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Stable JSON output")] = False,
    kubeconfig: Kubeconfig = None,
) -> None:
    """Diagnose a snapshot, or a live workload, of any kind with the offline rules; propose
    the fix."""
    from selfheal.activities.analysis import diagnose_context
    from selfheal.activities.fixes.registry import propose_fix
    from selfheal.activities.kubernetes.activities import KubernetesActivities
    from selfheal.contracts.kubernetes import ContextRequest
    from selfheal.snapshots import load_snapshot
    from selfheal.workload_tree import WorkloadNotFound

    settings = load_settings()
    kind, name = _workload_option(workload)
    if deployment is not None and name is None:
        kind, name = "Deployment", deployment
    if snapshot_dir is not None:
        try:
            context = load_snapshot(snapshot_dir, namespace, name, kind=kind)
        except WorkloadNotFound as missing:
            err.print(str(missing), markup=False)
            raise typer.Exit(1) from missing
    elif namespace and name:
        if kind is None:
            err.print(f"--workload {workload}: name it as KIND/NAME, e.g. statefulset/ledger")
            raise typer.Exit(2)
        cluster = KubernetesActivities(settings, _api_client(kubeconfig))
        context = cluster.gather_context(
            ContextRequest(incident_id="cli", namespace=namespace, workload=name, kind=kind)
        )
    else:
        err.print(
            "give --snapshot DIR, or --namespace NS with --deployment D or --workload KIND/NAME",
            markup=False,
        )
        raise typer.Exit(2)
    diagnosis = diagnose_context(None, context)
    fix = propose_fix(diagnosis, context, settings.fix_limits())
    if as_json:
        report = diagnosis.model_dump(mode="json", exclude={"usage", "proposed_fix"})
        report["fix"] = fix.model_dump(mode="json")
        report["workload"] = {
            "kind": context.kind,
            "namespace": context.namespace,
            "name": context.workload,
        }
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return
    out.print(
        f"{context.kind} {context.namespace}/{context.workload}: "
        f"[bold]{diagnosis.category.value}[/] ({diagnosis.confidence:.0%}): {diagnosis.summary}"
    )
    for item in diagnosis.evidence:
        out.print(f"  · {item.source}: {item.detail}", markup=False)
    out.print(f"fix: {fix.kind.value} (risk {fix.risk.value}): {fix.rationale}", markup=False)
    if diagnosis.recommendation:
        out.print(f"→ {diagnosis.recommendation}", markup=False)
