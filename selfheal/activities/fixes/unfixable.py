"""Failure classes no change to the Deployment can safely fix, and why: a person must act.

The fix registry answers them with a `none` proposal carrying the reason, whatever fix the
diagnosis suggests, and the allow-list refuses any other proposal for them, a model's too.
"""

from __future__ import annotations

from selfheal.model.diagnosis import DiagnosisCategory

NO_SAFE_FIX: dict[DiagnosisCategory, str] = {
    DiagnosisCategory.DEPENDENCY_FAILURE: (
        "The workload cannot reach something it depends on; restarting, rolling back or "
        "scaling it leaves the dependency as it is, and more replicas add load to it."
    ),
    DiagnosisCategory.EVICTED: (
        "The node ran short of a resource; a request sized from observed usage, and the "
        "node's own health, are a person's call: raising a request blindly can leave the "
        "pods unschedulable."
    ),
}


def no_safe_fix_reason(category: DiagnosisCategory) -> str | None:
    """Why no automatic fix is allowed for `category`, or None when one may be."""
    reason = NO_SAFE_FIX.get(category)
    return f"No automatic fix for {category.value}: {reason}" if reason else None
