"""relax_probe: a probe that fails for a reason a probe change cures (the analysis' hint)."""

from __future__ import annotations

import math
from typing import Any

from selfheal.activities.analysis.workload import WorkloadView
from selfheal.activities.fixes.building import (
    container_path,
    containers_patch,
    no_fix,
    patch_proposal,
    targets,
)
from selfheal.model.diagnosis import (
    Diagnosis,
    FieldChange,
    FixKind,
    FixLimits,
    FixProposal,
    ProbeHint,
)


def _relaxed_probe(problem: ProbeHint, probe: dict[str, Any], limits: FixLimits) -> dict[str, Any]:
    """Return the probe fields that cure `problem`, within the limits."""
    period = int(probe.get("periodSeconds", 10))
    threshold = int(probe.get("failureThreshold", 3))
    delay = int(probe.get("initialDelaySeconds", 0))
    if problem.mode == "wrong_path" and problem.good_path:
        return {"httpGet": {"path": problem.good_path}}
    if problem.mode == "timeout":
        timeout = int(probe.get("timeoutSeconds", 1))
        return {"timeoutSeconds": min(max(timeout * 2, 5), limits.max_probe_timeout_seconds)}
    if problem.mode == "slow_start":
        # Double the start-up allowance, and give at least two minutes: a start that
        # already fails is rarely cured by a few more seconds.
        budget = min(max(2 * (delay + period * threshold), 120), limits.max_probe_seconds)
        if problem.probe == "startup":
            return {
                "failureThreshold": min(math.ceil(budget / period), limits.max_failure_threshold)
            }
        return {"initialDelaySeconds": max(budget - period * threshold, delay + 1)}
    return {}


def relax_probe(diagnosis: Diagnosis, view: WorkloadView, limits: FixLimits) -> FixProposal:
    """Cure the failing probes the analysis found curable: its path, timeout or start-up time."""
    patches: dict[str, dict[str, Any]] = {}
    changes = []
    chosen = set(targets(diagnosis, view))
    for problem in diagnosis.hint.probes if diagnosis.hint else []:
        if problem.container not in chosen:
            continue
        field = f"{problem.probe}Probe"
        probe = dict(view.template_container(problem.container).get(field) or {})
        relaxed = _relaxed_probe(problem, probe, limits)
        if not probe or not relaxed:
            continue
        patches.setdefault(problem.container, {})[field] = relaxed
        base = f"{container_path(view, problem.container)}.{field}"
        for key, value in relaxed.items():
            if key == "httpGet":
                before = (probe.get("httpGet") or {}).get("path")
                changes.append(
                    FieldChange(path=f"{base}.httpGet.path", before=before, after=value["path"])
                )
            else:
                before = probe.get(key)
                changes.append(
                    FieldChange(
                        path=f"{base}.{key}",
                        before=None if before is None else str(before),
                        after=str(value),
                    )
                )
    if not patches:
        return no_fix(diagnosis, "No probe change is known to cure this failure.")
    described = "; ".join(f"{c.path}: {c.before or 'unset'} -> {c.after}" for c in changes)
    return patch_proposal(
        FixKind.RELAX_PROBE,
        view.context,
        containers_patch(patches, view),
        changes,
        f"{diagnosis.summary}. Relax the probe: {described}.",
    )
