"""`selfheal list` reads at 80 columns: ids and states whole, on one line each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.console import Console

from selfheal.cli.render import age, incident_table
from selfheal.client.listing import IncidentSummary

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def summary(incident_id: str, state: str, reason: str, minutes_ago: int) -> IncidentSummary:
    return IncidentSummary(
        id=incident_id,
        state=state,
        service="payments-reconciliation-worker",
        namespace="finance-production",
        severity="critical",
        reason=reason,
        workflow_status="RUNNING",
        started_at=NOW - timedelta(minutes=minutes_ago),
        closed_at=None,
    )


def rendered(incidents: list[IncidentSummary], width: int) -> list[str]:
    console = Console(width=width, record=True, color_system=None)
    console.print(incident_table(incidents, width=console.width, now=NOW))
    return console.export_text().splitlines()


INCIDENTS = [
    summary(
        "inc-payments-reconciliation-worker-1a2b3c4d",
        "AWAITING_APPROVAL",
        "KubePodCrashLooping: Pod finance-production/payments-reconciliation-worker-7d4b9c8f6"
        " is crash looping",
        3,
    ),
    summary("inc-checkout-5e6f7a8b", "RESOLVED", "KubeContainerOOMKilled", 60 * 26),
]


def test_every_incident_is_one_line_with_its_id_and_state_whole_at_80_columns():
    lines = rendered(INCIDENTS, width=80)
    assert all(len(line) <= 80 for line in lines)
    for incident in INCIDENTS:
        [row] = [line for line in lines if incident.id in line]
        assert incident.state in row
    assert len(lines) == 2 + len(INCIDENTS)  # title, header, one line per incident


def test_wider_terminals_show_more_of_the_reason():
    narrow = "\n".join(rendered(INCIDENTS, width=80))
    wide = "\n".join(rendered(INCIDENTS, width=200))
    assert "is crash looping" not in narrow
    assert "is crash looping" in wide
    assert "finance-production  " in wide


def test_age_reads_like_kubectl():
    assert [age(NOW - timedelta(seconds=s), NOW) for s in (5, 125, 7200, 3 * 86400)] == [
        "5s",
        "2m",
        "2h",
        "3d",
    ]
    assert age(None, NOW) == "?"


def test_a_usual_id_leaves_room_for_the_namespace_at_80_columns():
    lines = rendered(
        [summary("inc-checkout-5e6f7a8b", "AWAITING_REVIEW", "KubePodNotReady", 1)], 80
    )
    assert lines[1].split() == ["INCIDENT", "STATE", "AGE", "NAMESPACE", "REASON"]
    assert "KubePodNotReady" in lines[2] and len(lines[2]) <= 80
