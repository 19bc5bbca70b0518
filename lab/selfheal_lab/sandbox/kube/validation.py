"""The apiserver's validation for the workload kinds, answered with 422 Invalid."""

from __future__ import annotations

from typing import Any

from selfheal_lab.sandbox.kube.cron import ScheduleError, parse
from selfheal_lab.sandbox.kube.errors import ApiError
from selfheal_lab.sandbox.kube.quantity import parse_quantity
from selfheal_lab.sandbox.kube.resources import ResourceType
from selfheal_lab.sandbox.kube.selectors import labels_match_selector
from selfheal_lab.sandbox.kube.store import Obj


def _pod_spec(rtype: ResourceType, name: str, spec: dict[str, Any], path: str) -> None:
    containers = spec.get("containers")
    if not containers:
        raise ApiError.invalid(rtype, name, f"{path}.containers", "Required value")
    for index, container in enumerate(containers):
        where = f"{path}.containers[{index}]"
        if not container.get("name"):
            raise ApiError.invalid(rtype, name, f"{where}.name", "Required value")
        if not container.get("image"):
            raise ApiError.invalid(rtype, name, f"{where}.image", "Required value")
        resources = container.get("resources") or {}
        for section in ("limits", "requests"):
            for resource, value in (resources.get(section) or {}).items():
                try:
                    parse_quantity(value)
                except ValueError:
                    raise ApiError.invalid(
                        rtype,
                        name,
                        f"{where}.resources.{section}[{resource}]",
                        f'Invalid value: "{value}": must be a valid quantity',
                    ) from None
        limits = resources.get("limits") or {}
        for resource, value in (resources.get("requests") or {}).items():
            if resource in limits and parse_quantity(value) > parse_quantity(limits[resource]):
                raise ApiError.invalid(
                    rtype,
                    name,
                    f"{where}.resources.requests",
                    f'Invalid value: "{value}": must be less than or equal to {resource} limit '
                    f"of {limits[resource]}",
                )


def _job_template(rtype: ResourceType, name: str, template: dict[str, Any], path: str) -> None:
    policy = (template.get("spec") or {}).get("restartPolicy", "Always")
    if policy not in ("OnFailure", "Never"):
        raise ApiError.invalid(
            rtype,
            name,
            f"{path}.spec.restartPolicy",
            f'Unsupported value: "{policy}": supported values: "OnFailure", "Never"',
        )
    _pod_spec(rtype, name, template.get("spec") or {}, f"{path}.spec")


def _schedule(rtype: ResourceType, name: str, spec: dict[str, Any]) -> None:
    schedule = str(spec.get("schedule") or "")
    if not schedule:
        raise ApiError.invalid(rtype, name, "spec.schedule", "Required value")
    try:
        parse(schedule)
    except ScheduleError as exc:
        raise ApiError.invalid(
            rtype, name, "spec.schedule", f'Invalid value: "{schedule}": {exc}'
        ) from None


def validate(rtype: ResourceType, obj: Obj) -> None:
    """Raise ApiError 422 when the object would be rejected by a real apiserver."""
    name = (obj.get("metadata") or {}).get("name", "")
    spec = obj.get("spec") or {}
    if rtype.kind == "Pod":
        _pod_spec(rtype, name, spec, "spec")
    if rtype.kind == "Job":
        _job_template(rtype, name, spec.get("template") or {}, "spec.template")
    if rtype.kind == "CronJob":
        _schedule(rtype, name, spec)
        job_template = (spec.get("jobTemplate") or {}).get("spec") or {}
        _job_template(
            rtype, name, job_template.get("template") or {}, "spec.jobTemplate.spec.template"
        )
    if rtype.kind not in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"):
        return
    replicas = spec.get("replicas", 1)
    if not isinstance(replicas, int) or replicas < 0:
        raise ApiError.invalid(
            rtype, name, "spec.replicas", f"Invalid value: {replicas}: must be >= 0"
        )
    selector = spec.get("selector")
    if not selector:
        raise ApiError.invalid(rtype, name, "spec.selector", "Required value")
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if not labels_match_selector(labels, selector):
        raise ApiError.invalid(
            rtype,
            name,
            "spec.template.metadata.labels",
            f"Invalid value: {labels}: `selector` does not match template `labels`",
        )
    _pod_spec(rtype, name, template.get("spec") or {}, "spec.template.spec")
