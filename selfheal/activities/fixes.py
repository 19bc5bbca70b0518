"""Fix generation: a Diagnosis becomes a FixProposal limited to an allow-list of fields.

The allow-list (docs/security.md): memory/CPU within a multiplier and a cap, replicas within
a cap, probe timings and paths, non-secret env, and an image rollback only to an image the
workload ran before. `validate_proposal` enforces it on any proposal, ours or a language model's;
anything outside it is refused and the incident escalates.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from selfheal.activities.analysis.probe_failure import ProbeProblem, probe_problems, probe_spec
from selfheal.activities.analysis.replica_shortage import previous_desired_replicas
from selfheal.activities.analysis.workload import Revision, WorkloadView, name_of
from selfheal.domain import (
    ActionKind,
    ClusterContext,
    Diagnosis,
    FieldChange,
    FixKind,
    FixLimits,
    FixProposal,
    FixRequest,
    RemediationAction,
    RiskLevel,
)
from selfheal.redaction import is_sensitive_name

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
PROTECTED_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})
PROBE_FIELDS = ("livenessProbe", "readinessProbe", "startupProbe")
PROBE_SECONDS = ("initialDelaySeconds", "periodSeconds", "timeoutSeconds")
PROBE_THRESHOLDS = ("failureThreshold", "successThreshold")

RISK = {
    FixKind.INCREASE_MEMORY: RiskLevel.LOW,
    FixKind.INCREASE_CPU: RiskLevel.LOW,
    FixKind.RELAX_PROBE: RiskLevel.LOW,
    FixKind.SCALE_UP: RiskLevel.LOW,
    FixKind.ROLLBACK_IMAGE: RiskLevel.MEDIUM,
    FixKind.RESTART: RiskLevel.MEDIUM,
    FixKind.NONE: RiskLevel.LOW,
}


# --- Kubernetes quantities ---------------------------------------------------------------

_QUANTITY = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)([a-zA-Z]*)$")
_SUFFIXES = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
}


def parse_quantity(value: Any) -> Decimal:
    """Return a Kubernetes quantity (`512Mi`, `1.5Gi`, `250m`, `2`, `1e3`) as a number."""
    match = _QUANTITY.match(str(value).strip())
    if not match or match.group(2) not in _SUFFIXES:
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    try:
        return Decimal(match.group(1)) * _SUFFIXES[match.group(2)]
    except InvalidOperation as error:
        raise ValueError(f"not a Kubernetes quantity: {value!r}") from error


def format_memory(amount: Decimal) -> str:
    """Return bytes as the largest exact binary quantity (`1536Mi`, `2Gi`), else decimal."""
    whole = int(amount.to_integral_value(rounding="ROUND_CEILING"))
    for suffix in ("Ti", "Gi", "Mi", "Ki"):
        if whole % int(_SUFFIXES[suffix]) == 0:
            return f"{whole // int(_SUFFIXES[suffix])}{suffix}"
    for suffix in ("T", "G", "M", "k"):
        if whole % int(_SUFFIXES[suffix]) == 0:
            return f"{whole // int(_SUFFIXES[suffix])}{suffix}"
    return str(whole)


def format_cpu(amount: Decimal) -> str:
    """Return cores as whole cores (`2`) or millicores (`1500m`)."""
    millis = int((amount * 1000).to_integral_value(rounding="ROUND_CEILING"))
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


# --- building proposals ------------------------------------------------------------------


def _containers_patch(containers: dict[str, dict[str, Any]], order: list[str]) -> dict[str, Any]:
    """Return a strategic-merge patch of the pod template's containers (merged by name)."""
    items = [{"name": name, **containers[name]} for name in order if name in containers]
    return {"spec": {"template": {"spec": {"containers": items}}}}


def _none(diagnosis: Diagnosis, why: str) -> FixProposal:
    recommendation = diagnosis.recommendation or "A person must decide what to change."
    return FixProposal(
        kind=FixKind.NONE,
        risk=RiskLevel.LOW,
        rationale=f"{why} {recommendation}".strip(),
    )


def _patch_proposal(
    kind: FixKind,
    context: ClusterContext,
    patch: dict[str, Any],
    changes: list[FieldChange],
    rationale: str,
) -> FixProposal:
    return FixProposal(
        kind=kind,
        risk=RISK[kind],
        rationale=rationale,
        manifest_patch=patch,
        action=RemediationAction(
            kind=ActionKind.PATCH,
            namespace=context.namespace,
            deployment=context.workload,
            patch=patch,
        ),
        changes=changes,
    )


def _targets(diagnosis: Diagnosis, view: WorkloadView) -> list[str]:
    names = [str(c.get("name")) for c in view.template_containers()]
    chosen = [name for name in diagnosis.containers if name in names]
    return chosen or names


def _increase_resource(
    diagnosis: Diagnosis, view: WorkloadView, limits: FixLimits, resource: str
) -> FixProposal:
    memory = resource == "memory"
    kind = FixKind.INCREASE_MEMORY if memory else FixKind.INCREASE_CPU
    multiplier = Decimal(str(limits.memory_multiplier if memory else limits.cpu_multiplier))
    cap = parse_quantity(limits.max_memory if memory else limits.max_cpu)
    show = format_memory if memory else format_cpu
    patches: dict[str, dict[str, Any]] = {}
    changes: list[FieldChange] = []
    for name in _targets(diagnosis, view):
        resources = view.template_container(name).get("resources") or {}
        current = (resources.get("limits") or {}).get(resource)
        if current is None:
            continue
        old = parse_quantity(current)
        new = min(old * multiplier, cap)
        if new <= old:
            continue
        path = f"spec.template.spec.containers[{name}].resources"
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
        return _none(
            diagnosis,
            f"No {resource} limit can be raised: none is set on "
            f"{', '.join(_targets(diagnosis, view))}, or it is already at the cap "
            f"{limits.max_memory if memory else limits.max_cpu}.",
        )
    described = "; ".join(f"{c.path}: {c.before} -> {c.after}" for c in changes)
    rationale = (
        f"{diagnosis.summary}. Raise the {resource} limit by at most x{multiplier} "
        f"(cap {show(cap)}): {described}."
    )
    order = [str(c.get("name")) for c in view.template_containers()]
    return _patch_proposal(
        kind, view.context, _containers_patch(patches, order), changes, rationale
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


def _rollback(diagnosis: Diagnosis, view: WorkloadView) -> FixProposal:
    target, current = _rollback_target(view), view.current_revision
    if target is None or current is None:
        return _none(
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
                    path=f"spec.template.spec.containers[{name}].image",
                    before=current.images[name],
                    after=image,
                )
            )
    order = [str(c.get("name")) for c in view.template_containers()]
    patch = _containers_patch(patches, order)
    images = ", ".join(f"{c.after}" for c in changes)
    return FixProposal(
        kind=FixKind.ROLLBACK_IMAGE,
        risk=RISK[FixKind.ROLLBACK_IMAGE],
        rationale=(
            f"{diagnosis.summary}. Roll back from revision {current.number} to revision "
            f"{target.number}, which ran {images}."
        ),
        manifest_patch=patch,
        action=RemediationAction(
            kind=ActionKind.ROLLBACK,
            namespace=view.context.namespace,
            deployment=view.context.workload,
            revision=target.number,
        ),
        changes=changes,
    )


def _scale_up(diagnosis: Diagnosis, view: WorkloadView, limits: FixLimits) -> FixProposal:
    desired = view.desired_replicas
    before = previous_desired_replicas(view)
    wanted = before if before and before > desired else max(1, desired * 2)
    target = min(wanted, limits.max_replicas)
    if target <= desired:
        return _none(diagnosis, f"Replicas are already at {desired} (cap {limits.max_replicas}).")
    patch = {"spec": {"replicas": target}}
    source = f"it ran {before} before" if before and before > desired else "doubling"
    return FixProposal(
        kind=FixKind.SCALE_UP,
        risk=RISK[FixKind.SCALE_UP],
        rationale=f"{diagnosis.summary}. Scale from {desired} to {target} replicas ({source}; "
        f"cap {limits.max_replicas}).",
        manifest_patch=patch,
        action=RemediationAction(
            kind=ActionKind.SCALE,
            namespace=view.context.namespace,
            deployment=view.context.workload,
            replicas=target,
        ),
        changes=[FieldChange(path="spec.replicas", before=str(desired), after=str(target))],
    )


def _relaxed_probe(
    problem: ProbeProblem, probe: dict[str, Any], limits: FixLimits
) -> dict[str, Any]:
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


def _relax_probe(diagnosis: Diagnosis, view: WorkloadView, limits: FixLimits) -> FixProposal:
    patches: dict[str, dict[str, Any]] = {}
    changes = []
    targets = set(_targets(diagnosis, view))
    for problem in probe_problems(view):
        if problem.container not in targets or not problem.fixable:
            continue
        probe = probe_spec(view.template_container(problem.container), problem.probe)
        relaxed = _relaxed_probe(problem, probe, limits)
        if not probe or not relaxed:
            continue
        patches.setdefault(problem.container, {})[problem.field] = relaxed
        base = f"spec.template.spec.containers[{problem.container}].{problem.field}"
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
        return _none(diagnosis, "No probe change is known to cure this failure.")
    described = "; ".join(f"{c.path}: {c.before or 'unset'} -> {c.after}" for c in changes)
    order = [str(c.get("name")) for c in view.template_containers()]
    return _patch_proposal(
        FixKind.RELAX_PROBE,
        view.context,
        _containers_patch(patches, order),
        changes,
        f"{diagnosis.summary}. Relax the probe: {described}.",
    )


def _restart(diagnosis: Diagnosis, view: WorkloadView) -> FixProposal:
    # The snapshot's own latest time keeps the proposal deterministic for one context.
    moment = view.reference_time.isoformat() if view.reference_time else "selfheal"
    patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: moment}}}}}
    return FixProposal(
        kind=FixKind.RESTART,
        risk=RISK[FixKind.RESTART],
        rationale=f"{diagnosis.summary}. Restart the Deployment's pods with a rolling restart.",
        manifest_patch=patch,
        action=RemediationAction(
            kind=ActionKind.ROLLOUT_RESTART,
            namespace=view.context.namespace,
            deployment=view.context.workload,
        ),
        changes=[
            FieldChange(path=f"spec.template.metadata.annotations[{RESTARTED_AT}]", after=moment)
        ],
    )


def propose_fix(diagnosis: Diagnosis, context: ClusterContext, limits: FixLimits) -> FixProposal:
    """Return the fix for a diagnosis: a patch, its direct action, risk and rationale.

    Deterministic: the same diagnosis and context give the same proposal. Kind `none` when
    there is no fault, no safe fix, or the fix would exceed the limits.
    """
    if not diagnosis.fault_found:
        return _none(diagnosis, "No fault found; nothing to change.")
    if not context.deployment:
        return _none(diagnosis, f"Deployment {context.namespace}/{context.workload} was not found.")
    view = WorkloadView(context)
    match diagnosis.suggested_fix:
        case FixKind.INCREASE_MEMORY:
            return _increase_resource(diagnosis, view, limits, "memory")
        case FixKind.INCREASE_CPU:
            return _increase_resource(diagnosis, view, limits, "cpu")
        case FixKind.ROLLBACK_IMAGE:
            return _rollback(diagnosis, view)
        case FixKind.SCALE_UP:
            return _scale_up(diagnosis, view, limits)
        case FixKind.RELAX_PROBE:
            return _relax_probe(diagnosis, view, limits)
        case FixKind.RESTART:
            return _restart(diagnosis, view)
    return _none(diagnosis, f"No safe automatic fix for {diagnosis.category.value}.")


# --- validation --------------------------------------------------------------------------


class _PatchCheck:
    """Walks a Deployment patch and records every field outside the allow-list."""

    def __init__(self, view: WorkloadView, limits: FixLimits, label: str) -> None:
        self.view = view
        self.limits = limits
        self.label = label
        self.reasons: list[str] = []

    def refuse(self, reason: str) -> None:
        self.reasons.append(f"{self.label}: {reason}")

    def only(self, obj: Any, allowed: set[str], where: str) -> dict[str, Any]:
        if not isinstance(obj, dict):
            self.refuse(f"{where} must be an object")
            return {}
        for key in sorted(set(obj) - allowed):
            self.refuse(f"{where}.{key} is outside the allow-list")
        return {key: value for key, value in obj.items() if key in allowed}

    def directives(self, obj: Any, where: str) -> None:
        """Refuse patch directives ($patch: delete, $retainKeys...) and nulls (deletions)."""
        if isinstance(obj, dict):
            for key, value in obj.items():
                if str(key).startswith("$"):
                    self.refuse(f"{where}.{key}: patch directives (deletions) are not allowed")
                elif value is None:
                    self.refuse(f"{where}.{key}: null deletes a field; deletions are not allowed")
                else:
                    self.directives(value, f"{where}.{key}")
        elif isinstance(obj, list):
            for index, item in enumerate(obj):
                self.directives(item, f"{where}[{index}]")

    def check(self, patch: dict[str, Any]) -> list[str]:
        self.directives(patch, "patch")
        top = self.only(patch, {"apiVersion", "kind", "metadata", "spec"}, "patch")
        if top.get("kind", "Deployment") != "Deployment":
            self.refuse(f"patch.kind {top['kind']} is not a Deployment")
        metadata = self.only(top.get("metadata", {}), {"name", "namespace"}, "metadata")
        if metadata.get("name", self.view.context.workload) != self.view.context.workload:
            self.refuse(f"metadata.name {metadata['name']} is another Deployment")
        if metadata.get("namespace", self.view.context.namespace) != self.view.context.namespace:
            self.refuse(f"metadata.namespace {metadata['namespace']} is another namespace")
        spec = self.only(top.get("spec", {}), {"replicas", "template"}, "spec")
        if "replicas" in spec:
            self.replicas(spec["replicas"])
        template = self.only(spec.get("template", {}), {"metadata", "spec"}, "spec.template")
        template_meta = self.only(
            template.get("metadata", {}), {"annotations"}, "spec.template.metadata"
        )
        self.only(
            template_meta.get("annotations", {}),
            {RESTARTED_AT},
            "spec.template.metadata.annotations",
        )
        pod = self.only(template.get("spec", {}), {"containers"}, "spec.template.spec")
        containers = pod.get("containers", [])
        if not isinstance(containers, list):
            self.refuse("spec.template.spec.containers must be a list")
            return self.reasons
        for container in containers:
            self.container(container)
        return self.reasons

    def replicas(self, value: Any) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            self.refuse(f"replicas {value!r} is not a number")
            return
        if not 1 <= value <= self.limits.max_replicas:
            self.refuse(f"replicas {value} is outside 1..{self.limits.max_replicas}")
        scale_down = scale_down_refusal(value, self.view, self.limits)
        if scale_down:
            self.refuse(scale_down)

    def container(self, container: Any) -> None:
        allowed = {"name", "image", "resources", "env", *PROBE_FIELDS}
        fields = self.only(container, allowed, "container")
        name = fields.get("name")
        known = {str(c.get("name")) for c in self.view.template_containers()}
        if name not in known:
            self.refuse(f"container {name!r} is not a container of {self.view.context.workload}")
            return
        where = f"containers[{name}]"
        if "image" in fields:
            ran = images_ran(self.view).get(str(name), set())
            if fields["image"] not in ran:
                self.refuse(
                    f"{where}.image {fields['image']} never ran in this Deployment "
                    f"(history: {', '.join(sorted(ran)) or 'none'})"
                )
        self.resources(str(name), fields.get("resources", {}), where)
        for probe_field in PROBE_FIELDS:
            if probe_field in fields:
                self.probe(fields[probe_field], f"{where}.{probe_field}")
        env = fields.get("env", [])
        if not isinstance(env, list):
            self.refuse(f"{where}.env must be a list")
            return
        for item in env:
            entry = self.only(item, {"name", "value"}, f"{where}.env")
            if is_sensitive_name(str(entry.get("name", ""))):
                self.refuse(f"{where}.env {entry.get('name')} looks like a secret")
            if not isinstance(entry.get("value", ""), str):
                self.refuse(f"{where}.env {entry.get('name')} value must be a string")

    def resources(self, name: str, resources: Any, where: str) -> None:
        groups = self.only(resources, {"limits", "requests"}, f"{where}.resources")
        current = self.view.template_container(name).get("resources") or {}
        for group, values in groups.items():
            for resource, value in self.only(values, {"memory", "cpu"}, f"{where}.{group}").items():
                memory = resource == "memory"
                cap = parse_quantity(self.limits.max_memory if memory else self.limits.max_cpu)
                multiplier = Decimal(
                    str(self.limits.memory_multiplier if memory else self.limits.cpu_multiplier)
                )
                try:
                    amount = parse_quantity(value)
                except ValueError:
                    self.refuse(f"{where}.{group}.{resource} {value!r} is not a quantity")
                    continue
                if amount > cap:
                    self.refuse(f"{where}.{group}.{resource} {value} exceeds the cap {cap}")
                before = (current.get(group) or {}).get(resource)
                if before is not None and amount > parse_quantity(before) * multiplier:
                    self.refuse(
                        f"{where}.{group}.{resource} {value} is more than x{multiplier} of {before}"
                    )

    def probe(self, probe: Any, where: str) -> None:
        fields = self.only(probe, {"httpGet", *PROBE_SECONDS, *PROBE_THRESHOLDS}, where)
        for key, value in fields.items():
            if key == "httpGet":
                path = self.only(value, {"path"}, f"{where}.httpGet").get("path", "/")
                if not isinstance(path, str) or not re.fullmatch(r"/[A-Za-z0-9._~/\-]*", path):
                    self.refuse(f"{where}.httpGet.path {path!r} is not a plain URL path")
                continue
            bound = (
                self.limits.max_probe_timeout_seconds
                if key == "timeoutSeconds"
                else self.limits.max_probe_seconds
                if key in PROBE_SECONDS
                else self.limits.max_failure_threshold
            )
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= bound:
                self.refuse(f"{where}.{key} {value!r} is outside 0..{bound}")


def scale_down_refusal(replicas: int, view: WorkloadView, limits: FixLimits) -> str | None:
    """Why fewer replicas than the Deployment runs may not be proposed, or None.

    A scale-down removes capacity: it is destructive whatever the proposal calls itself.
    """
    current = view.desired_replicas if view.context.deployment else None
    if current is None or replicas >= current or limits.allow_delete_pods:
        return None
    return (
        f"replicas {replicas} is below the current {current}: a scale-down is destructive "
        "and SELFHEAL_ALLOW_DESTRUCTIVE is off"
    )


def images_ran(view: WorkloadView) -> dict[str, set[str]]:
    """Return, per container, every image the Deployment's revisions have run."""
    ran: dict[str, set[str]] = {}
    for revision in view.revisions:
        for name, image in revision.images.items():
            ran.setdefault(name, set()).add(image)
    for container in view.template_containers():
        ran.setdefault(str(container.get("name")), set()).add(str(container.get("image")))
    return ran


def _check_action(action: RemediationAction, view: WorkloadView, limits: FixLimits) -> list[str]:
    reasons = []
    context = view.context
    if action.namespace in PROTECTED_NAMESPACES:
        reasons.append(f"action: namespace {action.namespace} is never changed")
    if action.namespace != context.namespace:
        reasons.append(
            f"action: namespace {action.namespace} is not the incident's {context.namespace}"
        )
    if action.deployment != context.workload:
        reasons.append(
            f"action: deployment {action.deployment} is not the incident's {context.workload}"
        )
    if action.kind == ActionKind.PATCH:
        reasons += _PatchCheck(view, limits, "action.patch").check(action.patch)
    elif action.patch:
        reasons.append(f"action: a {action.kind.value} action carries no patch")
    replicas_ok = action.replicas is not None and 1 <= action.replicas <= limits.max_replicas
    if action.kind == ActionKind.SCALE and not replicas_ok:
        reasons.append(f"action: replicas {action.replicas} is outside 1..{limits.max_replicas}")
    if action.kind == ActionKind.SCALE and action.replicas is not None:
        scale_down = scale_down_refusal(action.replicas, view, limits)
        if scale_down:
            reasons.append(f"action: {scale_down}")
    if action.kind == ActionKind.ROLLBACK:
        numbers = {revision.number for revision in view.revisions}
        current = view.current_revision.number if view.current_revision else None
        if action.revision not in numbers or action.revision == current:
            reasons.append(f"action: revision {action.revision} is not an earlier revision")
    if action.kind == ActionKind.DELETE_PODS:
        pods = {name_of(pod) for pod in view.pods}
        if not limits.allow_delete_pods:
            reasons.append("action: deleting pods is not allowed")
        elif not action.pods or not set(action.pods) <= pods:
            reasons.append("action: only this workload's pods may be deleted")
    return reasons


def validate_proposal(
    proposal: FixProposal, context: ClusterContext, limits: FixLimits
) -> list[str]:
    """Return why a proposal is unsafe (empty when it stays inside the allow-list)."""
    view = WorkloadView(context)
    reasons = []
    if context.namespace in PROTECTED_NAMESPACES:
        reasons.append(f"namespace {context.namespace} is never changed")
    if proposal.kind == FixKind.NONE:
        if proposal.manifest_patch or (proposal.action and proposal.action.kind != ActionKind.NONE):
            reasons.append("a proposal of kind none must change nothing")
        return reasons
    if not context.deployment:
        reasons.append(f"Deployment {context.namespace}/{context.workload} was not found")
    reasons += _PatchCheck(view, limits, "manifest_patch").check(proposal.manifest_patch)
    if proposal.action is not None:
        reasons += _check_action(proposal.action, view, limits)
    return reasons


_RISK_ORDER = (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH)
_MEDIUM_ACTIONS = frozenset({ActionKind.ROLLBACK, ActionKind.ROLLOUT_RESTART})
_CODE_FIELDS = frozenset({"image", "env"})


def assessed_risk(proposal: FixProposal) -> RiskLevel:
    """Return the proposal's risk judged by what it changes, never lower than its kind's.

    A proposal cannot lower its own risk by its label: a "memory increase" that also changes
    an image or env, restarts pods or rolls back is at least medium, and deleting pods is high,
    so the approval policy (SELFHEAL_AUTO_APPROVE=low-risk) sees what would really happen.
    """
    risks = [proposal.risk, RISK.get(proposal.kind, RiskLevel.HIGH)]
    action = proposal.action
    if action is not None and action.kind == ActionKind.DELETE_PODS:
        risks.append(RiskLevel.HIGH)
    elif action is not None and action.kind in _MEDIUM_ACTIONS:
        risks.append(RiskLevel.MEDIUM)
    for patch in (proposal.manifest_patch, action.patch if action else {}):
        template = (patch.get("spec") or {}).get("template") or {}
        containers = (template.get("spec") or {}).get("containers") or []
        touched = {key for c in containers if isinstance(c, dict) for key in c}
        if touched & _CODE_FIELDS or (template.get("metadata") or {}).get("annotations"):
            risks.append(RiskLevel.MEDIUM)
    return max(risks, key=_RISK_ORDER.index)


# --- the activity ------------------------------------------------------------------------


class FixActivities:
    """Fix generation as activities; pure computation, so it needs no client."""

    def __init__(self, limits: FixLimits | None = None) -> None:
        self.limits = limits or FixLimits()

    @activity.defn(name="propose_fix")
    async def propose_fix(self, request: FixRequest) -> FixProposal:
        """Return the fix for the request's diagnosis; refuse (non-retryable) an unsafe one.

        A model's own proposal is held to the same allow-list as the rules' and is refused
        whole, never trimmed, when any part of it is outside it.
        """
        return safe_fix(request.diagnosis, request.context, self.limits)


def safe_fix(diagnosis: Diagnosis, context: ClusterContext, limits: FixLimits) -> FixProposal:
    """The diagnosis's fix (the model's own, else the rules'), checked and with its risk assessed.

    Raises a non-retryable `UnsafeProposal` ApplicationError when any part is refused.
    """
    proposal = diagnosis.proposed_fix or propose_fix(diagnosis, context, limits)
    check_proposal(proposal, context, limits)
    return proposal.model_copy(update={"risk": assessed_risk(proposal)})


def check_proposal(proposal: FixProposal, context: ClusterContext, limits: FixLimits) -> None:
    """Raise a non-retryable `UnsafeProposal` ApplicationError naming every refused field."""
    reasons = validate_proposal(proposal, context, limits)
    if reasons:
        raise ApplicationError(
            f"fix proposal refused for {context.namespace}/{context.workload}: "
            + "; ".join(reasons),
            type="UnsafeProposal",
            non_retryable=True,
        )
