"""The chaos catalogue: each scenario is a declarative change to a healthy Deployment.

A scenario is data: a strategic-merge patch for the Deployment (with `{container}`,
`{image_repo}`, `{deployment}` and `{namespace}` filled in from the target), plus optional
extra objects. The same scenario breaks the sandbox cluster or a real one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from selfheal.model.diagnosis import DiagnosisCategory

CATEGORIES = tuple(category.value for category in DiagnosisCategory)
FIX_KINDS = (
    "increase_memory",
    "increase_cpu",
    "rollback_image",
    "restart",
    "scale_up",
    "relax_probe",
    "none",
)


@dataclass(frozen=True)
class Scenario:
    """One failure to inject, what it looks like, and what fixes it."""

    name: str
    description: str
    category: str
    fix_kind: str
    symptoms: str
    remedy: str
    patch: dict[str, Any]
    extra_objects: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    default_deployment: str = "checkout"

    def render(self, values: dict[str, str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Return the Deployment patch and extra objects with placeholders filled in."""
        return _fill(self.patch, values), [_fill(o, values) for o in self.extra_objects]


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, replacement in values.items():
            value = value.replace("{" + key + "}", replacement)
        return value
    if isinstance(value, dict):
        return {_fill(k, values): _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    return value


def _container_patch(**fields: Any) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": [{"name": "{container}", **fields}]}}}}


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="crashloop",
            description="Roll out release 1.5.0, which exits with code 1 right after start.",
            category="crash_loop",
            fix_kind="rollback_image",
            symptoms="New pods Running then CrashLoopBackOff, restarts rising, "
            "lastState.terminated reason Error exit code 1; BackOff events; the previous "
            "container's log ends in a fatal startup error.",
            remedy="Roll back to the previous image (kubectl rollout undo, or set the image "
            "back to 1.4.2).",
            patch=_container_patch(image="{image_repo}:1.5.0"),
        ),
        Scenario(
            name="oom",
            description="Cut the memory limit to 128Mi, below the app's working set.",
            category="oom_killed",
            fix_kind="increase_memory",
            symptoms="New pods restart with lastState.terminated reason OOMKilled, exit code "
            "137, then CrashLoopBackOff.",
            remedy="Raise the memory limit (and request) to at least 256Mi.",
            patch=_container_patch(
                resources={"requests": {"memory": "128Mi"}, "limits": {"memory": "128Mi"}}
            ),
        ),
        Scenario(
            name="bad-image",
            description="Roll out image tag 1.4.3, which was never pushed to the registry.",
            category="image_pull",
            fix_kind="rollback_image",
            symptoms="One new pod Pending with ErrImagePull then ImagePullBackOff; Failed "
            "events 'not found'; the old pods keep serving, the rollout stalls.",
            remedy="Roll back to the previous image tag.",
            patch=_container_patch(image="{image_repo}:1.4.3"),
        ),
        Scenario(
            name="missing-config",
            description="Add an env var read from Secret {deployment}-feature-flags, "
            "which does not exist.",
            category="config_error",
            fix_kind="none",
            symptoms="New pod Pending with CreateContainerConfigError "
            "'secret \"<deployment>-feature-flags\" not found'; Failed events.",
            remedy="A person creates the Secret (or reverts the change); the pod then starts "
            "by itself.",
            patch=_container_patch(
                env=[
                    {
                        "name": "FEATURE_FLAGS",
                        "valueFrom": {
                            "secretKeyRef": {"name": "{deployment}-feature-flags", "key": "flags"}
                        },
                    }
                ]
            ),
        ),
        Scenario(
            name="failing-probe",
            description="Point the readiness probe at /healthz/ready, a path the app does "
            "not serve.",
            category="probe_failure",
            fix_kind="relax_probe",
            symptoms="New pod Running but not Ready; Warning Unhealthy 'Readiness probe "
            "failed: HTTP probe failed with statuscode: 404'; the rollout stalls.",
            remedy="Fix the probe: a served path such as /healthz (or the previous probe).",
            patch=_container_patch(readinessProbe={"httpGet": {"path": "/healthz/ready"}}),
        ),
        Scenario(
            name="unschedulable",
            description="Request 64Gi of memory, more than any node has.",
            category="unschedulable",
            fix_kind="none",
            symptoms="New pod Pending, PodScheduled False reason Unschedulable; "
            "FailedScheduling '0/3 nodes are available: 3 Insufficient memory.'",
            remedy="Lower the request to what the app needs (a person decides; revert).",
            patch=_container_patch(
                resources={"requests": {"memory": "64Gi"}, "limits": {"memory": "64Gi"}}
            ),
        ),
        Scenario(
            name="replica-shortage",
            description="Scale to 1 replica, too few for the traffic the service gets.",
            category="replica_shortage",
            fix_kind="scale_up",
            symptoms="The single pod is overloaded: readiness probe fails with 'context "
            "deadline exceeded', the pod is not Ready, 0 of 1 available; its log says the "
            "request queue is saturated (offered rps above capacity per replica).",
            remedy="Scale up to 2 or more replicas.",
            patch={"spec": {"replicas": 1}},
        ),
    )
}


def list_scenarios() -> list[dict[str, str]]:
    """Return every scenario as {name, description, category, fix_kind}, in catalogue order."""
    return [
        {
            "name": s.name,
            "description": s.description,
            "category": s.category,
            "fix_kind": s.fix_kind,
        }
        for s in SCENARIOS.values()
    ]


def get_scenario(name: str) -> Scenario:
    """Return the named scenario; KeyError names the known ones."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise KeyError(f"unknown chaos scenario {name!r}; known: {', '.join(SCENARIOS)}") from None
