"""Configuration errors: a missing Secret or ConfigMap, or a key missing from one.

The kubelet says which: `secret "db" not found` (the object is missing) versus
`couldn't find key password in Secret prod/db` (the object exists, the key does not).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selfheal.activities.analysis.messages import normalize, same
from selfheal.activities.analysis.workload import WorkloadView
from selfheal.kube_objects import name_of
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory, Evidence, FixKind

CONFIG_REASONS = {"CreateContainerConfigError", "CreateContainerError"}

_MISSING_OBJECT = re.compile(r"\b(secret|configmap)s? \"([^\"]+)\" not found", re.I)
_MISSING_KEY = re.compile(
    r"couldn't find key (\S+) in (Secret|ConfigMap) (?:([^/\s]+)/)?(\S+)", re.I
)
_MISSING_VOLUME_KEY = re.compile(
    r"(configmap|secret) references non-existent (?:config|secret) key: (\S+)", re.I
)


@dataclass(frozen=True)
class MissingConfig:
    """One missing Secret/ConfigMap, or one missing key (`key` set)."""

    kind: str
    name: str
    key: str | None = None

    def describe(self) -> str:
        if self.key:
            return f'{self.kind} "{self.name}" has no key "{self.key}"'
        return f'{self.kind} "{self.name}" does not exist'


def missing_config(message: str) -> MissingConfig | None:
    """Return what a kubelet message says is missing, if it says so."""
    if match := _MISSING_KEY.search(message):
        kind = "Secret" if match.group(2).lower() == "secret" else "ConfigMap"
        return MissingConfig(kind, match.group(4).rstrip(".,\"'"), match.group(1))
    if match := _MISSING_OBJECT.search(message):
        kind = "Secret" if match.group(1).lower() == "secret" else "ConfigMap"
        return MissingConfig(kind, match.group(2))
    if match := _MISSING_VOLUME_KEY.search(message):
        kind = "Secret" if match.group(1).lower() == "secret" else "ConfigMap"
        return MissingConfig(kind, "?", match.group(2))
    return None


class ConfigError:
    """Containers that cannot be created (CreateContainerConfigError, FailedMount)."""

    name = "config_error"

    def diagnose(self, view: WorkloadView) -> Diagnosis | None:
        evidence: list[Evidence] = []
        containers: set[str] = set()
        missing: list[MissingConfig] = []
        messages: list[str] = []
        for container in view.containers:
            if same(container.waiting.get("reason"), *CONFIG_REASONS):
                if container.name not in containers:
                    evidence.append(container.state_evidence("state.waiting", container.waiting))
                containers.add(container.name)
                messages.append(normalize(container.waiting.get("message")))
        mount_failures = [
            (pod, event)
            for pod, event in view.pod_events({"FailedMount"})
            if missing_config(view.event_message(event))
        ]
        for pod, event in mount_failures[:2]:
            evidence.append(view.event_evidence("Pod", pod, event))
            messages.append(view.event_message(event))
        if not containers and not mount_failures:
            return None
        if mount_failures and not containers:
            stuck = {
                name_of(p)
                for p in view.pods
                if same((p.get("status") or {}).get("phase"), "Pending")
            }
            if not stuck & {pod for pod, _ in mount_failures}:
                return None
            containers = {str(c.get("name")) for c in view.template_containers()}

        for message in messages:
            found = missing_config(message)
            if found and found not in missing:
                missing.append(found)
        evidence += self._existing_objects(view, missing)

        names = view.container_order(containers)
        if missing:
            summary = "Containers cannot start: " + "; ".join(m.describe() for m in missing)
            recommendation = " ".join(self._advice(m, view.context.namespace) for m in missing)
            confidence = 0.95
        else:
            summary = "Containers cannot be created: " + (
                messages[0] if messages else "configuration error"
            )
            recommendation = "Fix the container configuration the waiting message names."
            confidence = 0.75
        previous = view.previous_revision
        if previous is not None:
            current = view.current_revision.number if view.current_revision else "?"
            recommendation += (
                f" If revision {current} introduced the reference, rolling back to revision "
                f"{previous.number} also restores service."
            )
        return Diagnosis(
            category=DiagnosisCategory.CONFIG_ERROR,
            summary=f"{summary} (container {', '.join(names)})",
            evidence=evidence,
            confidence=confidence,
            containers=names,
            suggested_fix=FixKind.NONE,
            recommendation=recommendation,
        )

    @staticmethod
    def _existing_objects(view: WorkloadView, missing: list[MissingConfig]) -> list[Evidence]:
        """Cite what the snapshot holds of each named object: absent, or its keys."""
        evidence = []
        for item in missing:
            pool = view.context.secrets if item.kind == "Secret" else view.context.configmaps
            found = next((obj for obj in pool if name_of(obj) == item.name), None)
            if found is None:
                continue
            keys = sorted((found.get("data") or {}).keys())
            if keys:
                evidence.append(
                    Evidence(
                        source=f"{item.kind.lower()}/{item.name} data",
                        detail=f"keys: {', '.join(keys)}",
                    )
                )
        return evidence

    @staticmethod
    def _advice(item: MissingConfig, namespace: str) -> str:
        if item.key:
            return (
                f'Add key "{item.key}" to {item.kind} {namespace}/{item.name}, or point the '
                "reference at the key it really has."
            )
        return (
            f"Create {item.kind} {namespace}/{item.name} (from the secret store or the "
            "manifests repo), or correct the name the Deployment refers to."
        )
