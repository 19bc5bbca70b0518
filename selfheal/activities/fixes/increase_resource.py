"""increase_memory and increase_cpu: raise a limit that the workload outgrew."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from selfheal.activities.analysis.workload import WorkloadView
from selfheal.activities.fixes.building import (
    container_path,
    containers_patch,
    format_cpu,
    format_memory,
    no_fix,
    parse_quantity,
    patch_proposal,
    targets,
)
from selfheal.model.diagnosis import (
    Diagnosis,
    FieldChange,
    FixKind,
    FixLimits,
    FixProposal,
    RiskLevel,
)


def increase_resource(
    diagnosis: Diagnosis, view: WorkloadView, limits: FixLimits, resource: str
) -> FixProposal:
    """Raise the memory (or CPU) limit of the diagnosed containers, by at most the
    multiplier and up to the cap; a request equal to the limit (guaranteed QoS) follows."""
    memory = resource == "memory"
    kind = FixKind.INCREASE_MEMORY if memory else FixKind.INCREASE_CPU
    multiplier = Decimal(str(limits.memory_multiplier if memory else limits.cpu_multiplier))
    cap = parse_quantity(limits.max_memory if memory else limits.max_cpu)
    show = format_memory if memory else format_cpu
    patches: dict[str, dict[str, Any]] = {}
    changes: list[FieldChange] = []
    for name in targets(diagnosis, view):
        resources = view.template_container(name).get("resources") or {}
        current = (resources.get("limits") or {}).get(resource)
        if current is None:
            continue
        old = parse_quantity(current)
        new = min(old * multiplier, cap)
        if new <= old:
            continue
        path = f"{container_path(view, name)}.resources"
        patch: dict[str, Any] = {"limits": {resource: show(new)}}
        changes.append(
            FieldChange(path=f"{path}.limits.{resource}", before=str(current), after=show(new))
        )
        request = (resources.get("requests") or {}).get(resource)
        # Guaranteed QoS (request == limit) stays guaranteed; a lower request is left alone
        # so the pod does not become harder to schedule.
        if request is not None and parse_quantity(request) == old:
            patch["requests"] = {resource: show(new)}
            changes.append(
                FieldChange(
                    path=f"{path}.requests.{resource}", before=str(request), after=show(new)
                )
            )
        patches[name] = {"resources": patch}
    if not patches:
        return no_fix(
            diagnosis,
            f"No {resource} limit can be raised: none is set on "
            f"{', '.join(targets(diagnosis, view))}, or it is already at the cap "
            f"{limits.max_memory if memory else limits.max_cpu}.",
        )
    described = "; ".join(f"{c.path}: {c.before} -> {c.after}" for c in changes)
    rationale = (
        f"{diagnosis.summary}. Raise the {resource} limit by at most x{multiplier} "
        f"(cap {show(cap)}): {described}."
    )
    leaking = [
        name for name in (diagnosis.hint.memory_leak if diagnosis.hint else []) if name in patches
    ]
    proposal = patch_proposal(
        kind, view.context, containers_patch(patches, view), changes, rationale
    )
    if memory and leaking:
        # More memory only postpones a leak's next kill: a person should weigh it.
        return proposal.model_copy(
            update={
                "risk": RiskLevel.MEDIUM,
                "rationale": f"{rationale} A stopgap only: the working set of "
                f"{', '.join(leaking)} grows steadily (a leak), so the raise buys time until "
                "the leak is fixed.",
            }
        )
    return proposal


def increase_memory(diagnosis: Diagnosis, view: WorkloadView, limits: FixLimits) -> FixProposal:
    """Raise the memory limit (fix kind increase_memory)."""
    return increase_resource(diagnosis, view, limits, "memory")


def increase_cpu(diagnosis: Diagnosis, view: WorkloadView, limits: FixLimits) -> FixProposal:
    """Raise the CPU limit (fix kind increase_cpu)."""
    return increase_resource(diagnosis, view, limits, "cpu")
