"""How incidents look in a terminal: tables and timelines for people (JSON is elsewhere)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from selfheal.client.listing import IncidentSummary
from selfheal.model.incident import IncidentState, IncidentStatus

STATE_STYLES = {
    IncidentState.RESOLVED: "green",
    IncidentState.ESCALATED: "bold red",
    IncidentState.AWAITING_REVIEW: "yellow",
    IncidentState.AWAITING_APPROVAL: "yellow",
}


def _state(state: IncidentState | str) -> str:
    try:
        style = STATE_STYLES.get(IncidentState(state), "cyan")
    except ValueError:
        style = "cyan"
    return f"[{style}]{state}[/]"


def incident_table(incidents: list[IncidentSummary]) -> Table:
    """One row per incident, newest first."""
    table = Table(title=f"{len(incidents)} incident(s)")
    for column in ("incident", "state", "service", "namespace", "severity", "reason", "started"):
        table.add_column(column, overflow="fold")
    for incident in incidents:
        table.add_row(
            incident.id,
            _state(incident.state),
            incident.service,
            incident.namespace,
            incident.severity,
            incident.reason,
            incident.started_at.strftime("%Y-%m-%d %H:%M:%S") if incident.started_at else "",
        )
    return table


def print_status(console: Console, status: IncidentStatus, ui_url: str) -> None:
    """The `show` view: what happened, what was found, what was done, in order."""
    console.print(f"[bold]{status.id}[/]  {_state(status.state)}  ({status.mode.value} mode)")
    console.print(
        f"service {status.namespace}/{status.service} on {status.cluster} · "
        f"severity {status.severity} · {status.alert_count} alert(s)"
        + ("" if status.alert_firing else " · alert resolved")
    )
    if status.alert_names:
        console.print(f"alerts: {', '.join(status.alert_names)}", markup=False)
    if status.previous_incident:
        console.print(f"recurrence of {status.previous_incident}", markup=False)
    console.print(f"UI: {ui_url}", soft_wrap=True)
    if status.diagnosis:
        d = status.diagnosis
        console.print(
            f"\n[bold]Diagnosis[/] {d.category.value} ({d.confidence:.0%}, {d.analyzer}): "
            f"{d.summary}"
        )
        for item in d.evidence[:8]:
            console.print(f"  · {item.source}: {item.detail}", markup=False)
        if d.recommendation:
            console.print(f"  → {d.recommendation}", markup=False)
    if status.fix:
        f = status.fix
        console.print(f"\n[bold]Fix[/] {f.kind.value} (risk {f.risk.value}): {f.rationale}")
        for change in f.changes:
            console.print(f"  · {change.path}: {change.before} → {change.after}", markup=False)
    if status.pr_url:
        console.print(f"\n[bold]Pull request[/] {status.pr_url}")
    if status.ticket_key:
        console.print(f"[bold]Ticket[/] {status.ticket_key} {status.ticket_url or ''}")
    if status.deadline and status.state in (
        IncidentState.AWAITING_REVIEW,
        IncidentState.AWAITING_APPROVAL,
        IncidentState.ESCALATED,
    ):
        console.print(
            f"[bold]Waiting for a person until[/] {status.deadline:%Y-%m-%d %H:%M:%S} UTC"
        )
    if status.usage.model_calls:
        u = status.usage
        console.print(
            f"[bold]Model[/] {u.model_calls} call(s), {u.input_tokens} in / {u.output_tokens} out"
        )
    timeline = Table(title="Timeline", show_lines=False)
    for column in ("time (UTC)", "state", "note", "by"):
        timeline.add_column(column, overflow="fold")
    for entry in status.timeline:
        timeline.add_row(
            entry.at.strftime("%H:%M:%S"), _state(entry.state), entry.note, entry.by or ""
        )
    console.print(timeline)
    if status.approvals:
        console.print("[bold]Decisions[/]")
        for a in status.approvals:
            verdict = "counted" if a.accepted else f"ignored: {a.note}"
            console.print(
                f"  · {a.at:%H:%M:%S} {a.by} {a.decision} ({verdict}) {a.comment}", markup=False
            )
    if status.resolution:
        console.print("\n[bold]Resolution[/]", end=" ")
        console.print(status.resolution, markup=False)
    if status.escalation_reason and status.state == IncidentState.ESCALATED:
        console.print("\n[bold red]Escalated[/]", end=" ")
        console.print(status.escalation_reason, markup=False)
