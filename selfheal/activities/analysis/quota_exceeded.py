"""Quota exceeded: the namespace's ResourceQuota or LimitRange refuses the pods.

ResourceQuota admission (apiserver resourcequota/controller.go) answers
`exceeded quota: <name>, requested: <r>, used: <u>, limited: <l>` or
`failed quota: <name>: must specify <resources>`; LimitRanger (limitranger/admission.go)
answers `maximum memory usage per Container is 1Gi, but limit is 2Gi` and its siblings.
Both arrive wrapped as `pods "<name>" is forbidden: ...` in the ReplicaSet's FailedCreate
events and ReplicaFailure condition (pod_refusals.py). Older releases wrote "Exceeded quota"
and "Maximum": matching ignores case.
"""

from __future__ import annotations

import re

from selfheal.activities.analysis.pod_refusals import Refusal, refusals
from selfheal.activities.analysis.workload import WorkloadView
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory, Evidence, FixKind

_I = re.IGNORECASE
_EXCEEDED = re.compile(
    r"exceeded quota: (?P<quota>[^,\s]+), requested: (?P<requested>\S+?), "
    r"used: (?P<used>\S+?), limited: (?P<limited>\S+)",
    _I,
)
_MUST_SPECIFY = re.compile(r"failed quota: (?P<quota>[^:\s]+): must specify (?P<what>.+)", _I)
_LIMIT_RANGE = re.compile(
    r"(?P<bound>minimum|maximum) (?P<resource>\S+) usage per (?P<scope>container|pod"
    r"|persistentvolumeclaim) is (?P<value>[^,.\s]+)(?:, but (?:limit|request) is "
    r"(?P<actual>[^,\s\]]+)|\. +no (?:limit|request) is specified)"
    r"|(?P<ratio_resource>\S+) max limit to request ratio per (?P<ratio_scope>\w+) is "
    r"(?P<ratio>[^,\s]+)",
    _I,
)


def _describe(refusal: Refusal) -> tuple[str, str] | None:
    """Return (what refuses, what to do) for a quota or LimitRange refusal, else None."""
    if match := _EXCEEDED.search(refusal.message):
        quota = match["quota"]
        return (
            f"over ResourceQuota {quota} (requested {match['requested']}, used "
            f"{match['used']}, limited {match['limited']})",
            f"Raise ResourceQuota {quota} (kubectl describe resourcequota {quota}), free "
            "quota other workloads hold, or lower what each pod of this Deployment asks for.",
        )
    if match := _MUST_SPECIFY.search(refusal.message):
        quota = match["quota"]
        return (
            f"ResourceQuota {quota} requires {match['what']}",
            f"Declare what ResourceQuota {quota} requires ({match['what']}) in the pod "
            "template; the quota admits no pod without it.",
        )
    if match := _LIMIT_RANGE.search(refusal.message):
        if match["ratio"]:
            return (
                f"the LimitRange caps the {match['ratio_resource']} limit/request ratio per "
                f"{match['ratio_scope']} at {match['ratio']}",
                "Bring the limit and request closer, or have the LimitRange's owner change it.",
            )
        bound, resource, scope = match["bound"].lower(), match["resource"], match["scope"]
        actual = f", the pod asks {match['actual']}" if match["actual"] else ""
        return (
            f"the LimitRange allows {bound} {match['value']} {resource} per {scope}{actual}",
            f"Keep the {resource} of each {scope} within the namespace's LimitRange "
            f"({bound} {match['value']}; kubectl describe limitrange), or have its owner "
            "change it.",
        )
    return None


class QuotaExceeded:
    """ReplicaSets whose pods the namespace's ResourceQuota or LimitRange refuses."""

    name = "quota_exceeded"

    def diagnose(self, view: WorkloadView) -> Diagnosis | None:
        described = [(r, d) for r in refusals(view) if (d := _describe(r)) is not None]
        if not described:
            return None
        # Events quote the controller's own "Error creating: ..." line; cite them first.
        described.sort(key=lambda item: not item[0].evidence.source.startswith("event"))
        refusal, (what, advice) = described[0]
        available, desired = view.status_count("availableReplicas"), view.desired_replicas
        evidence = [r.evidence for r, _ in described[:2]]
        evidence.append(
            Evidence(
                source=f"{view.ref} status",
                detail=f"replicas desired={desired} available={available} "
                f"updated={view.status_count('updatedReplicas')}",
            )
        )
        evidence += [
            view.resources_evidence(str(c.get("name"))) for c in view.template_containers()[:3]
        ]
        return Diagnosis(
            category=DiagnosisCategory.QUOTA_EXCEEDED,
            summary=f"ReplicaSet {refusal.replicaset} cannot create pods: {what}; "
            f"{available} of {desired} replicas available",
            evidence=evidence,
            confidence=0.95,
            containers=[str(c.get("name")) for c in view.template_containers()],
            suggested_fix=FixKind.NONE,
            recommendation=advice,
        )
