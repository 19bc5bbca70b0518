"""The fix kinds, and the one entry point that turns a diagnosis into a proposal.

Adding a fix kind: write a module with a function `(diagnosis, view, limits) -> FixProposal`
and list it here; the allow-list (allow_list.py) decides what any proposal may change.
Failure classes that must never get an automatic fix are listed in unfixable.py.
"""

from __future__ import annotations

from collections.abc import Callable

from selfheal.activities.analysis.workload import WorkloadView
from selfheal.activities.fixes.building import no_fix
from selfheal.activities.fixes.increase_resource import increase_cpu, increase_memory
from selfheal.activities.fixes.relax_probe import relax_probe
from selfheal.activities.fixes.restart import restart
from selfheal.activities.fixes.rollback_image import rollback_image
from selfheal.activities.fixes.scale_up import scale_up
from selfheal.activities.fixes.unfixable import no_fix_for_kind, no_safe_fix_reason
from selfheal.contracts.kubernetes import ClusterContext
from selfheal.model.diagnosis import Diagnosis, FixKind, FixLimits, FixProposal

Fix = Callable[[Diagnosis, WorkloadView, FixLimits], FixProposal]

FIXES: dict[FixKind, Fix] = {
    FixKind.INCREASE_MEMORY: increase_memory,
    FixKind.INCREASE_CPU: increase_cpu,
    FixKind.ROLLBACK_IMAGE: rollback_image,
    FixKind.SCALE_UP: scale_up,
    FixKind.RELAX_PROBE: relax_probe,
    FixKind.RESTART: restart,
}


def propose_fix(diagnosis: Diagnosis, context: ClusterContext, limits: FixLimits) -> FixProposal:
    """Return the fix for a diagnosis: a patch, its direct action, risk and rationale.

    Deterministic: the same diagnosis and context give the same proposal. Kind `none` when
    there is no fault, no safe fix, the workload's kind cannot carry a change (a bare Pod,
    a Job), or the fix would exceed the limits.
    """
    proposal = _propose(diagnosis, context, limits)
    return proposal.model_copy(update={"workload_kind": context.kind})


def _propose(diagnosis: Diagnosis, context: ClusterContext, limits: FixLimits) -> FixProposal:
    if not diagnosis.fault_found:
        return no_fix(diagnosis, "No fault found; nothing to change.")
    if context.workload_object() is None:
        return no_fix(
            diagnosis, f"{context.kind} {context.namespace}/{context.workload} was not found."
        )
    unchangeable = no_fix_for_kind(context.kind)
    if unchangeable:
        return no_fix(diagnosis, unchangeable)
    unfixable = no_safe_fix_reason(diagnosis.category)
    if unfixable:
        return no_fix(diagnosis, unfixable)
    fix = FIXES.get(diagnosis.suggested_fix)
    if fix is None:
        return no_fix(diagnosis, f"No safe automatic fix for {diagnosis.category.value}.")
    return fix(diagnosis, WorkloadView(context), limits)
