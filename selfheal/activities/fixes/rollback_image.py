"""rollback_image: go back to an image the workload's own history ran."""

from __future__ import annotations

from typing import Any

from selfheal.activities.analysis.workload import Revision, WorkloadView
from selfheal.activities.fixes.building import container_path, containers_patch, no_fix
from selfheal.activities.fixes.risk import RISK
from selfheal.model.diagnosis import (
    ActionKind,
    Diagnosis,
    FieldChange,
    FixKind,
    FixLimits,
    FixProposal,
    RemediationAction,
)


def _rollback_target(view: WorkloadView) -> Revision | None:
    """Return the newest earlier revision running different images than the current one."""
    current = view.current_revision
    if current is None:
        return None
    for revision in reversed(view.revisions[:-1]):
        if any(current.images.get(n) not in (None, image) for n, image in revision.images.items()):
            return revision
    return None


def rollback_image(diagnosis: Diagnosis, view: WorkloadView, limits: FixLimits) -> FixProposal:
    """Roll back to the newest earlier revision that ran other images."""
    target, current = _rollback_target(view), view.current_revision
    if target is None or current is None:
        return no_fix(
            diagnosis,
            "The workload ran no other image before, so there is nothing to roll back to.",
        )
    patches: dict[str, dict[str, Any]] = {}
    changes = []
    for name, image in target.images.items():
        if current.images.get(name) not in (None, image):
            patches[name] = {"image": image}
            changes.append(
                FieldChange(
                    path=f"{container_path(view, name)}.image",
                    before=current.images[name],
                    after=image,
                )
            )
    patch = containers_patch(patches, view)
    images = ", ".join(f"{c.after}" for c in changes)
    # A Deployment rolls back to its ReplicaSet's revision; other kinds get the images back
    # by patching their template (the direct path applies Deployments only).
    deployment = view.kind == "Deployment"
    action = RemediationAction(
        kind=ActionKind.ROLLBACK if deployment else ActionKind.PATCH,
        namespace=view.context.namespace,
        deployment=view.context.workload,
        revision=target.number if deployment else None,
        patch={} if deployment else patch,
        workload_kind=view.kind,
    )
    return FixProposal(
        kind=FixKind.ROLLBACK_IMAGE,
        risk=RISK[FixKind.ROLLBACK_IMAGE],
        rationale=(
            f"{diagnosis.summary}. Roll back from revision {current.number} to revision "
            f"{target.number} ({target.kind.lower()}/{target.name}), which ran {images}."
        ),
        manifest_patch=patch,
        action=action,
        changes=changes,
        workload_kind=view.kind,
    )
