"""How incidents look in a terminal: tables and timelines for people (JSON is elsewhere)."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

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


LIST_COLUMNS = ("INCIDENT", "STATE", "AGE", "NAMESPACE", "REASON")
GAP = "  "
WITH_NAMESPACE = 30
"""Columns left after id, state and age below which the namespace is left out."""


def incident_table(
    incidents: list[IncidentSummary], width: int = 80, now: datetime | None = None
) -> Text:
    """One line per incident, newest first, fitted to `width` columns (kubectl's layout).

    The incident id (which names the workload) and the state are never cut: they are what a
    person scans for and copies. The namespace and the reason give way, cut with an
    ellipsis; `--json` has every field whole.
    """
    now = now or datetime.now(UTC)
    rows: list[tuple[str, ...]] = [
        (i.id, i.state, age(i.started_at, now), i.namespace, i.reason) for i in incidents
    ]
    columns: tuple[str, ...] = LIST_COLUMNS
    widths = [max([len(name), *(len(row[n]) for row in rows)]) for n, name in enumerate(columns)]
    room = width - sum(widths[:3]) - len(GAP) * 3
    if room >= WITH_NAMESPACE:
        widths[3] = min(widths[3], room // 3)
        widths[4] = room - widths[3] - len(GAP)
    else:  # too narrow for both: the reason matters more than the namespace
        columns = (*columns[:3], columns[4])
        rows = [(*row[:3], row[4]) for row in rows]
        widths = [*widths[:3], max(len("REASON"), room)]
    table = Text(f"{len(incidents)} incident(s)\n")
    table.append(_line(columns, widths), style="bold")
    for row in rows:
        table.append("\n")
        line = _line(row, widths)
        start = len(table) + widths[0] + len(GAP)
        table.append(line)
        table.stylize(_style(row[1]), start, start + len(row[1]))
    return table


def _line(values: tuple[str, ...], widths: list[int]) -> str:
    cells = [_cut(value, size).ljust(size) for value, size in zip(values, widths, strict=True)]
    cells[2] = values[2].rjust(widths[2])
    return GAP.join(cells).rstrip()


def _cut(value: str, size: int) -> str:
    return value if len(value) <= size else value[: size - 1] + "…"


def _style(state: str) -> str:
    try:
        return STATE_STYLES.get(IncidentState(state), "cyan")
    except ValueError:
        return "cyan"


def age(since: datetime | None, now: datetime) -> str:
    """How long ago, the way kubectl says it: 45s, 12m, 3h, 5d."""
    if since is None:
        return "?"
    seconds = max(0, int((now - since).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


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
        console.print(
            f"\n[bold]Fix[/] {f.kind.value} (risk {f.risk.value}, proposal {f.digest}): "
            f"{f.rationale}"
        )
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
