"""Image pull failures: a tag that does not exist, a registry refusing credentials, or no route."""

from __future__ import annotations

import re

from selfheal.activities.analysis.messages import normalize, same
from selfheal.activities.analysis.workload import ContainerStatus, WorkloadView
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory, Evidence, FixKind

PULL_REASONS = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}

# Checked in this order: registries answer "pull access denied ... does not exist or may
# require authorization" for private repositories, and that is an access problem first.
_CAUSES: list[tuple[str, re.Pattern[str]]] = [
    (
        "invalid",
        re.compile(r"InvalidImageName|invalid reference format|couldn't parse image", re.I),
    ),
    (
        "auth",
        re.compile(
            r"unauthorized|pull access denied|authentication required|no basic auth credentials"
            r"|403 forbidden|denied:|insufficient_scope|authorization failed",
            re.I,
        ),
    ),
    ("not_found", re.compile(r"manifest unknown|not found|name unknown|no such manifest", re.I)),
    (
        "network",
        re.compile(
            r"no such host|i/o timeout|connection refused|tls handshake timeout"
            r"|network is unreachable|connection reset",
            re.I,
        ),
    ),
]

_ERROR_ECHO = re.compile(r"^error:", re.I)

_DESCRIPTIONS = {
    "invalid": "is not a valid image reference",
    "auth": "is refused by the registry (authentication/authorization failure)",
    "not_found": "does not exist in the registry (tag or manifest not found)",
    "network": "cannot be fetched: the registry is unreachable",
    "unclassified": "cannot be pulled",
}


def pull_cause(messages: list[str]) -> str:
    """Return why a pull failed: invalid, auth, not_found, network or unclassified."""
    for cause, pattern in _CAUSES:
        if any(pattern.search(message) for message in messages):
            return cause
    return "unclassified"


class ImagePull:
    """Containers waiting in ErrImagePull / ImagePullBackOff / InvalidImageName."""

    name = "image_pull"

    def diagnose(self, view: WorkloadView) -> Diagnosis | None:
        failing: dict[str, list[ContainerStatus]] = {}
        for container in view.containers:
            if same(container.waiting.get("reason"), *PULL_REASONS):
                failing.setdefault(container.name, []).append(container)
        if not failing:
            return None

        names = view.container_order(set(failing))
        evidence: list[Evidence] = []
        messages: list[str] = []
        for name in names:
            first = failing[name][0]
            evidence.append(first.state_evidence("state.waiting", first.waiting))
            messages.append(normalize(first.waiting.get("message")))
            messages.append(normalize(first.waiting.get("reason")))
        failing_pods = {c.pod for entries in failing.values() for c in entries}
        cited = 0
        for pod, event in view.pod_events({"Failed"}):
            message = view.event_message(event)
            # "Error: ErrImagePull" repeats the waiting reason; the pull error is the other one.
            if (
                pod in failing_pods
                and "image" in message.lower()
                and not _ERROR_ECHO.match(message)
            ):
                messages.append(message)
                if cited < 2:
                    evidence.append(view.event_evidence("Pod", pod, event))
                    cited += 1
        cause = pull_cause(messages)

        images = {name: failing[name][0].image for name in names}
        current, previous = view.current_revision, view.previous_revision
        introduced = {
            name: previous.images.get(name)
            for name in names
            if previous is not None
            and current is not None
            and current.images.get(name) == images[name]
            and previous.images.get(name) not in (None, images[name])
        }
        if current is not None and previous is not None and introduced:
            evidence.append(view.revision_evidence(current))
            evidence.append(view.revision_evidence(previous))

        described = "; ".join(f"{name} image {images[name]}" for name in names)
        summary = f"Image pull failing for {described}: {_DESCRIPTIONS[cause]}"
        rollback = bool(introduced) and cause in {"not_found", "auth", "invalid"}
        if rollback and previous is not None:
            summary += f" (new in revision {current.number if current else '?'})"
            recommendation = (
                f"Roll back to revision {previous.number} ("
                + ", ".join(f"{name}={image}" for name, image in introduced.items())
                + "), then publish the intended image or fix its reference before redeploying."
            )
        else:
            recommendation = {
                "auth": "Check the imagePullSecrets of the pod (expired or missing registry "
                "credentials) and the registry's permissions for this repository.",
                "not_found": "Push the missing tag to the registry or correct the image reference.",
                "invalid": "Correct the image reference in the Deployment.",
                "network": "Check that the nodes can reach the registry (DNS, firewall, proxy) "
                "and the registry's status.",
                "unclassified": "Read the pod's Failed events for the registry's answer.",
            }[cause]
        confidence = {"unclassified": 0.7, "network": 0.8}.get(cause, 0.95 if messages else 0.8)
        return Diagnosis(
            category=DiagnosisCategory.IMAGE_PULL,
            summary=summary,
            evidence=evidence,
            confidence=confidence,
            containers=names,
            suggested_fix=FixKind.ROLLBACK_IMAGE if rollback else FixKind.NONE,
            recommendation=recommendation,
        )
