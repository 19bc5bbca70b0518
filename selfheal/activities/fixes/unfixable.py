"""Failure classes no change to the workload can safely fix, and the workload kinds no fix
may change, and why: a person must act.

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
    DiagnosisCategory.QUOTA_EXCEEDED: (
        "The namespace's ResourceQuota or LimitRange refuses the pods; quotas are set by "
        "their owners, and shrinking the pods to fit would be a guess."
    ),
    DiagnosisCategory.ROLLOUT_STUCK: (
        "The rollout is refused or held by something outside the pod template's safe "
        "fields (admission policy, webhooks); a person decides between fixing the template "
        "and rolling back."
    ),
    DiagnosisCategory.STORAGE: (
        "Volumes, claims and their storage backends are outside the workload's safe "
        "fields; restarting pods does not bind, attach or mount a volume."
    ),
    DiagnosisCategory.JOB_FAILED: (
        "A Job's pods are not changed after the fact; fix what made them fail (the code, "
        "its input, a dependency) in the CronJob's template or the Job's manifest, then run "
        "it again."
    ),
    DiagnosisCategory.NODE_FAILURE: (
        "The node failed, not the workload; its pods are rescheduled by Kubernetes, and "
        "the node needs a person."
    ),
}


NO_FIX_FOR_KIND: dict[str, str] = {
    "Pod": (
        "A bare Pod has no controller to carry a change: a changed Pod is a new Pod, which "
        "only its manifest (or the tool that created it) can make. Fix the manifest and "
        "recreate the Pod, or run it under a Deployment."
    ),
    "Job": (
        "A Job's pods are not changed after the fact (its pod template is immutable): fix "
        "the CronJob that creates it, or the Job's manifest, and run it again."
    ),
}
"""Workload kinds no proposal may change, whatever the failure class, and why."""


def no_fix_for_kind(kind: str) -> str | None:
    """Why no automatic fix can change a workload of `kind`, or None when one may."""
    reason = NO_FIX_FOR_KIND.get(kind)
    return f"No automatic fix for a {kind}: {reason}" if reason else None


def no_safe_fix_reason(category: DiagnosisCategory) -> str | None:
    """Why no automatic fix is allowed for `category`, or None when one may be."""
    reason = NO_SAFE_FIX.get(category)
    return f"No automatic fix for {category.value}: {reason}" if reason else None
