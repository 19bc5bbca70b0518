"""Dependency failures: the workload's own logs say it cannot reach what it depends on.

Every log of every pod in the context is read, ready pods' included. A single stale line
never counts; an error counts when it is either

- **last words**: a container crashing now (see `crash_loop.live_crash`) wrote it among the
  last LAST_WORDS lines of the run that died (its previous log, and its current log while
  it is not running again); or
- **recent and repeated**: the same dependency is reported in at least MIN_REPEATS current
  lines across the workload's logs. A line is current when it carries a timestamp within
  RECENT_WINDOW of its log's last timestamp or, when it has none, is among its log's last
  RECENT_LINES lines.

Nothing about the Deployment can fix a dependency, so no fix is proposed: rolling back,
restarting or scaling the workload leaves the dependency as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from selfheal.activities.analysis.crash_loop import live_crash
from selfheal.activities.analysis.dependency_errors import (
    KIND_TEXT,
    DependencyError,
    dependency_error,
)
from selfheal.activities.analysis.host_settings import HostSetting, settings_naming
from selfheal.activities.analysis.workload import ContainerStatus, WorkloadView
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory, Evidence, FixKind

LAST_WORDS = 5
MIN_REPEATS = 3
RECENT_LINES = 20
RECENT_WINDOW = timedelta(minutes=10)
MAX_LINES_CITED = 3

# A timestamp near the start of a line: RFC 3339, `2025-06-03 14:28:01`, `2025/06/03 14:28:01`.
_STAMP = re.compile(r"(\d{4})[-/](\d{2})[-/](\d{2})[T ](\d{2}):(\d{2}):(\d{2})")
_STAMP_REACH = 48

_ADVICE = {
    "dns": "The name does not resolve from the pod: check that the Service or host exists "
    "(in that namespace), that the name is spelled right, and that cluster DNS answers.",
    "tls": "The TLS handshake fails: check the certificate the dependency serves (expired, "
    "wrong name) and the CA bundle this workload trusts.",
    "refused": "Nothing listens there: check that the dependency runs and is ready, and that "
    "its Service has endpoints on that port.",
    "unreachable": "There is no route: check the dependency's address and the network "
    "between (NetworkPolicies, firewalls, egress).",
    "timeout": "The dependency does not answer in time: check that it is up and not "
    "overloaded, and the network between (NetworkPolicies, firewalls).",
    "upstream": "The dependency answers 5xx: it is failing itself; look at its health.",
}


@dataclass(frozen=True)
class Sighting:
    """One dependency error in one log, and whether it was a crashed container's last words."""

    error: DependencyError
    pod: str
    container: str
    source: str
    last_words: bool


def _stamp(line: str) -> datetime | None:
    match = _STAMP.search(line[:_STAMP_REACH])
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def current_lines(text: str) -> list[str]:
    """Return the lines of a log that are current (see the module docstring)."""
    lines = [line for line in text.splitlines() if line.strip()]
    stamps = [_stamp(line) for line in lines]
    latest = max((stamp for stamp in stamps if stamp), default=None)
    found = []
    for index, (line, stamp) in enumerate(zip(lines, stamps, strict=True)):
        if stamp is not None and latest is not None:
            if latest - stamp <= RECENT_WINDOW:
                found.append(line)
        elif index >= len(lines) - RECENT_LINES:
            found.append(line)
    return found


def _last_words(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()][-LAST_WORDS:]


def sightings(view: WorkloadView) -> list[Sighting]:
    """Return every dependency error that counts, in the workload's logs."""
    statuses = {(c.pod, c.name): c for c in view.containers}
    found: list[Sighting] = []
    seen: set[tuple[str, str, str]] = set()

    def add(pod: str, container: str, previous: bool, lines: list[str], last: bool) -> None:
        suffix = ".previous.txt" if previous else ".txt"
        for line in lines:
            error = dependency_error(line)
            if error is None or (pod, container, error.line) in seen:
                continue
            seen.add((pod, container, error.line))
            found.append(Sighting(error, pod, container, f"logs/{pod}/{container}{suffix}", last))

    for (pod, container), status in statuses.items():
        if live_crash(view, status) is None:
            continue
        add(pod, container, True, _last_words(view.log(pod, container, previous=True)), True)
        if not status.running:
            add(pod, container, False, _last_words(view.log(pod, container)), True)
    for key, text in sorted(view.context.logs.items()):
        pod, _, container = key.partition("/")
        add(pod, container, False, current_lines(text), False)
    return found


def _target_key(sighting: Sighting) -> str:
    return sighting.error.host or sighting.error.kind


def _counted(group: list[Sighting]) -> bool:
    return any(s.last_words for s in group) or len(group) >= MIN_REPEATS


def _cited_lines(group: list[Sighting]) -> list[Evidence]:
    """One line per pod first, the last words before other lines."""
    ordered = sorted(group, key=lambda s: not s.last_words)
    cited: list[Sighting] = []
    for sighting in ordered:
        if all(c.pod != sighting.pod for c in cited):
            cited.append(sighting)
    cited += [s for s in ordered if s not in cited]
    return [Evidence(source=s.source, detail=s.error.line[:500]) for s in cited[:MAX_LINES_CITED]]


class DependencyFailure:
    """Logs that keep saying, or last said before a crash, that a dependency is unreachable."""

    name = "dependency_failure"

    def diagnose(self, view: WorkloadView) -> Diagnosis | None:
        groups: dict[str, list[Sighting]] = {}
        for sighting in sightings(view):
            groups.setdefault(_target_key(sighting), []).append(sighting)
        counted = [group for group in groups.values() if _counted(group)]
        if not counted:
            return None
        group = max(
            counted,
            key=lambda g: (any(s.last_words for s in g), g[0].error.host is not None, len(g)),
        )
        error = group[0].error
        names = view.container_order({s.container for s in group})
        pods = {s.pod for s in group}
        crashing = self._crashing(view, group)
        evidence: list[Evidence] = []
        for status in crashing[:1]:
            crash = live_crash(view, status)
            if crash is not None:
                evidence.append(status.state_evidence(*crash))
        evidence += _cited_lines(group)

        what = "init container" if crashing and crashing[0].init else "container"
        summary = (
            f"Dependency failure: {what} {', '.join(names)} {KIND_TEXT[error.kind]} {error.target}"
        )
        workload_ready = all(c.ready for c in view.containers if not c.init)
        if crashing:
            summary += f" and exits: {len({c.pod for c in crashing})} pod(s) crash looping"
        else:
            summary += f", {len(group)} time(s) recently in {len(pods)} pod(s)"
            if workload_ready and view.containers:
                summary += "; the pods are ready, but the dependency is not"
                evidence.append(self._status(view))

        settings = settings_naming(view, error.host) if error.host else []
        evidence += [setting.evidence for setting in settings[:3]]
        if settings:
            how = "set" if settings[0].exact else "probably set"
            summary += f"; {error.host} is {how} by {settings[0].label}"
        return Diagnosis(
            category=DiagnosisCategory.DEPENDENCY_FAILURE,
            summary=summary,
            evidence=evidence,
            confidence=self._confidence(bool(crashing), error, workload_ready),
            containers=names,
            suggested_fix=FixKind.NONE,
            recommendation=self._recommendation(view, error, settings),
        )

    @staticmethod
    def _crashing(view: WorkloadView, group: list[Sighting]) -> list[ContainerStatus]:
        keys = {(s.pod, s.container) for s in group if s.last_words}
        return [c for c in view.containers if (c.pod, c.name) in keys]

    @staticmethod
    def _status(view: WorkloadView) -> Evidence:
        return Evidence(
            source=f"{view.ref} status",
            detail=f"replicas desired={view.desired_replicas} "
            f"ready={view.status_count('readyReplicas')} "
            f"available={view.status_count('availableReplicas')}",
        )

    @staticmethod
    def _confidence(crashing: bool, error: DependencyError, ready: bool) -> float:
        named = error.host is not None
        if crashing:
            return 0.85 if named else 0.75
        if ready:
            return 0.7 if named else 0.6
        return 0.75 if named else 0.65

    @staticmethod
    def _recommendation(
        view: WorkloadView, error: DependencyError, settings: list[HostSetting]
    ) -> str:
        advice = f"Fix {error.target}, not {view.name}: {_ADVICE[error.kind]}"
        if settings:
            advice += f" If the address itself is wrong, correct {settings[0].label}."
        return advice + f" Restarting, rolling back or scaling {view.name} would not help."
