"""Failing probes: a wrong path, a slow start killed by liveness, timeouts, an unready app.

A container that crashes on its own (exit 1, OOMKilled) also fails its probes; that is the
crash's story, so only containers killed by the kubelet (exit 137/143/0) or never ready
while running are considered here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from selfheal.activities.analysis.messages import same
from selfheal.activities.analysis.workload import WorkloadView
from selfheal.model.diagnosis import (
    Diagnosis,
    DiagnosisCategory,
    Evidence,
    FixHint,
    FixKind,
    ProbeHint,
)

PROBES = ("startup", "liveness", "readiness")
KUBELET_KILL_CODES = {0, 137, 143}
TIMING_FIELDS = ("initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold")

# Messages are normalised first (messages.py): `kubectl describe` trims the space after the
# colon when the probe's output is empty, and case differs between kubelet versions.
_FAILED = re.compile(r"^(liveness|readiness|startup) probe failed:?\s*(.*)", re.I | re.S)
_KILLED = re.compile(r"failed (liveness|startup) probe", re.I)
_STATUS = re.compile(r"status ?code:? ?(\d{3})", re.I)
_TIMEOUT = re.compile(r"Client\.Timeout exceeded|context deadline exceeded|timed? ?out", re.I)
_REFUSED = re.compile(r"connection refused|connect: connection reset|EOF", re.I)
_URL_PATH = re.compile(r"https?://[^/\s\"]+(/[^\s\"]*)", re.I)


@dataclass
class ProbeProblem:
    """One failing probe of one container and what its failures say."""

    container: str
    probe: str
    mode: str = "other"
    """wrong_path, wrong_port, slow_start, timeout, unhealthy or other."""
    killed: bool = False
    path: str | None = None
    good_path: str | None = None
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def field(self) -> str:
        return f"{self.probe}Probe"

    @property
    def fixable(self) -> bool:
        return self.mode in {"slow_start", "timeout"} or (
            self.mode == "wrong_path" and self.good_path is not None
        )


def probe_spec(container_spec: dict, probe: str) -> dict:
    return dict(container_spec.get(f"{probe}Probe") or {})


def _probe_path(spec: dict) -> str | None:
    http = spec.get("httpGet") or {}
    return str(http["path"]) if http.get("path") else None


def _port_declared(container_spec: dict, probe: dict) -> bool:
    port = ((probe.get("httpGet") or probe.get("tcpSocket") or {}) or {}).get("port")
    ports = container_spec.get("ports") or []
    if port is None or not ports:
        return True
    return any(port in (p.get("containerPort"), p.get("name")) for p in ports)


def _crashes_on_its_own(view: WorkloadView, container: str) -> bool:
    for status in view.containers:
        if status.name != container:
            continue
        for _, state in view.live_terminations(status):
            if (
                same(state.get("reason"), "OOMKilled")
                or state.get("exitCode") not in KUBELET_KILL_CODES
            ):
                return True
    return False


def probe_problems(view: WorkloadView) -> list[ProbeProblem]:
    """Return the live probe failures of the workload, one per container and probe."""
    problems: dict[tuple[str, str], ProbeProblem] = {}
    messages: dict[tuple[str, str], list[str]] = {}
    default = (
        view.template_containers()[0].get("name") if len(view.template_containers()) == 1 else None
    )
    for pod, event in view.pod_events({"Unhealthy"}):
        if not view.event_is_recent(event):
            continue
        container = view.event_container(event) or default
        match = _FAILED.match(view.event_message(event))
        if container is None or not match:
            continue
        key = (container, match.group(1).lower())
        problem = problems.setdefault(key, ProbeProblem(container, key[1]))
        if not messages.get(key):
            problem.evidence.append(view.event_evidence("Pod", pod, event))
        messages.setdefault(key, []).append(match.group(2))
    for pod, event in view.pod_events({"Killing"}):
        killed = _KILLED.search(view.event_message(event))
        container = view.event_container(event) or default
        if not killed or not container or (container, killed.group(1).lower()) not in problems:
            continue
        problem = problems[(container, killed.group(1).lower())]
        if not problem.killed:
            problem.evidence.append(view.event_evidence("Pod", pod, event))
        problem.killed = True

    found = []
    for (container, probe), problem in sorted(problems.items(), key=lambda item: _order(item[0])):
        if _crashes_on_its_own(view, container):
            continue
        statuses = [s for s in view.containers if s.name == container]
        if probe == "readiness" and all(s.ready for s in statuses):
            continue
        spec = view.template_container(container)
        current = probe_spec(spec, probe)
        problem.path = _probe_path(current)
        _classify(problem, messages[(container, probe)], spec, current)
        if problem.mode == "wrong_path":
            problem.good_path = _good_path(view, problem, spec, problems)
        if problem.mode == "slow_start":
            for status in statuses[:1]:
                problem.evidence += view.log_evidence(status.pod, container, limit=2)
        found.append(problem)
    return found


def _order(key: tuple[str, str]) -> tuple[str, int]:
    return key[0], PROBES.index(key[1])


def _classify(problem: ProbeProblem, messages: list[str], spec: dict, probe: dict) -> None:
    codes = {int(code) for message in messages for code in _STATUS.findall(message)}
    paths = [m.group(1) for message in messages if (m := _URL_PATH.search(message))]
    if paths and problem.path is None:
        problem.path = paths[-1]
    if 404 in codes:
        problem.mode = "wrong_path"
    elif any(_REFUSED.search(m) for m in messages) and not _port_declared(spec, probe):
        problem.mode = "wrong_port"
    elif problem.killed and any(_REFUSED.search(m) or _TIMEOUT.search(m) for m in messages):
        problem.mode = "slow_start"
    elif any(_TIMEOUT.search(m) for m in messages):
        problem.mode = "timeout"
    elif any(code >= 500 for code in codes):
        problem.mode = "unhealthy"


def _good_path(
    view: WorkloadView,
    problem: ProbeProblem,
    spec: dict,
    problems: dict[tuple[str, str], ProbeProblem],
) -> str | None:
    """Return a health path known to work: the previous revision's, or a sibling probe's."""
    previous = view.previous_revision
    if previous is not None:
        for container in previous.containers:
            if container.get("name") == problem.container:
                path = _probe_path(probe_spec(container, problem.probe))
                if path and path != problem.path:
                    return path
    for other in PROBES:
        if other == problem.probe or (problem.container, other) in problems:
            continue
        path = _probe_path(probe_spec(spec, other))
        if path and path != problem.path:
            return path
    return None


_MODE_TEXT = {
    "wrong_path": "answers HTTP 404: the probe path {path} does not exist",
    "wrong_port": "is refused: the probe targets a port the container does not declare",
    "slow_start": "kills the container before it finishes starting (connection refused/timeouts "
    "during start-up)",
    "timeout": "times out: the endpoint answers slower than timeoutSeconds",
    "unhealthy": "gets HTTP 5xx: the application reports itself unhealthy",
    "other": "fails",
}

_ADVICE = {
    "wrong_path": "Point the probe at the health endpoint the application serves{good}.",
    "wrong_port": "Point the probe at the port the application listens on.",
    "slow_start": "Give the container time to start: a startupProbe or a longer "
    "initialDelaySeconds / failureThreshold on the liveness probe.",
    "timeout": "Raise the probe's timeoutSeconds, and check why the endpoint is slow.",
    "unhealthy": "The application says it is unhealthy: read its logs and check its dependencies; "
    "changing the probe would only hide the problem.",
    "other": "Read the probe's Unhealthy events and the container logs.",
}


class ProbeFailure:
    """Liveness/startup probes killing containers, or readiness probes keeping them unready."""

    name = "probe_failure"

    def diagnose(self, view: WorkloadView) -> Diagnosis | None:
        problems = probe_problems(view)
        if not problems:
            return None
        # Killing probes matter more than readiness; a fixable cause more than an opaque one.
        problems.sort(key=lambda p: (not p.killed, not p.fixable, _order((p.container, p.probe))))
        main = problems[0]
        evidence = [e for problem in problems for e in problem.evidence][:8]
        spec = probe_spec(view.template_container(main.container), main.probe)
        if spec:
            timings = ", ".join(
                f"{key}={spec[key]}"
                for key in (
                    "initialDelaySeconds",
                    "periodSeconds",
                    "timeoutSeconds",
                    "failureThreshold",
                )
                if key in spec
            )
            evidence.append(
                Evidence(
                    source=f"{view.ref} {view.containers_path}[{main.container}].{main.field}",
                    detail=f"path={main.path or '-'} {timings}",
                )
            )
        what = _MODE_TEXT[main.mode].format(path=main.path or "")
        summary = f"{main.probe.capitalize()} probe of container {main.container} {what}"
        if main.killed:
            summary += "; the kubelet restarts the container"
        good = f" ({main.good_path} worked before)" if main.good_path else ""
        confidence = {"wrong_path": 0.9, "wrong_port": 0.85, "slow_start": 0.75, "timeout": 0.75}
        return Diagnosis(
            category=DiagnosisCategory.PROBE_FAILURE,
            summary=summary,
            evidence=evidence,
            confidence=confidence.get(main.mode, 0.65),
            containers=view.container_order({p.container for p in problems}),
            suggested_fix=FixKind.RELAX_PROBE if main.fixable else FixKind.NONE,
            recommendation=_ADVICE[main.mode].format(good=good),
            hint=FixHint(
                probes=[
                    ProbeHint(
                        container=p.container, probe=p.probe, mode=p.mode, good_path=p.good_path
                    )
                    for p in problems
                    if p.fixable
                ]
            ),
        )
