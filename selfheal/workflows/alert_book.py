"""An incident's alerts: how many joined, under which names, and which still fire.

Plain functions over the IncidentStatus (no workflow API): the workflow calls them from its
`alert` and `alerts` signals and reads them where it waits.
"""

from __future__ import annotations

from selfheal.model.alerts import RESOLVING_SOURCES, Alert, AlertStatus, AlertTrack
from selfheal.model.incident import IncidentStatus

ALERT_NAMES_KEPT = 20
"""Distinct alert names an incident lists (and notes in its timeline)."""

ALERTS_TRACKED = 100
"""Distinct alerts whose firing or resolved state an incident follows one by one."""


def take_alerts(status: IncidentStatus, alerts: list[Alert], count: int) -> list[Alert]:
    """Count `count` alerts, follow each distinct one, and return those whose name is new
    to an incident that has begun (its timeline notes them).

    The first alert describes the incident. Incidents of the older scheme only ever got
    alerts of one name, and their firing state was the last alert's; they keep it that way.
    """
    status.alert_count += count
    joined = []
    for alert in alerts:
        if status.first_alert is None:
            describe(status, alert)
        if status.workload_id is None:
            status.alert_firing = alert.status == AlertStatus.FIRING
            continue
        if alert.name not in status.alert_names and len(status.alert_names) < ALERT_NAMES_KEPT:
            status.alert_names.append(alert.name)
            if len(status.alert_names) > 1 and status.timeline:
                joined.append(alert)
        firing = alert.status == AlertStatus.FIRING
        track = status.alerts.get(alert.key)
        if track is not None:
            track.firing, track.count = firing, track.count + 1
        elif len(status.alerts) < ALERTS_TRACKED:
            status.alerts[alert.key] = AlertTrack(
                name=alert.name, source=alert.source, firing=firing
            )
        status.alert_firing = any(track.firing for track in status.alerts.values())
    return joined


def hand_back(status: IncidentStatus, alerts: list[Alert]) -> None:
    """Keep alerts that arrived after the incident closed, each distinct one once and at most
    ALERTS_TRACKED, for its workload to open the next incident with (`after_close`)."""
    kept = {(alert.key, alert.status) for alert in status.after_close}
    for alert in alerts:
        if (alert.key, alert.status) not in kept and len(kept) < ALERTS_TRACKED:
            kept.add((alert.key, alert.status))
            status.after_close.append(alert)


def describe(status: IncidentStatus, alert: Alert) -> None:
    """The first alert describes the incident: what paged, about which workload, where."""
    status.first_alert = alert
    status.service = alert.workload or ""
    status.namespace = alert.namespace or ""
    status.cluster = alert.cluster or ""
    status.severity = alert.severity
    status.reason = alert.reason or alert.name
    status.alert_name = alert.name
    status.summary = alert.summary


def resolvable_firing(status: IncidentStatus) -> list[str]:
    """The names of firing alerts whose sender will say when they resolve."""
    tracks = status.alerts.values()
    return sorted(
        {track.name for track in tracks if track.firing and track.source in RESOLVING_SOURCES}
    )
