"""What a proposal may change, and how far: every proposal, the rules' or a model's, is held
to it whole and refused whole when any part is outside it."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from selfheal.activities.analysis.workload import WorkloadView
from selfheal.activities.fixes.building import parse_quantity
from selfheal.activities.fixes.restart import RESTARTED_AT
from selfheal.activities.fixes.scale_up import SCALABLE_KINDS
from selfheal.activities.fixes.unfixable import no_fix_for_kind, no_safe_fix_reason
from selfheal.contracts.kubernetes import ClusterContext
from selfheal.guardrails import PROTECTED_NAMESPACES, namespace_refusal
from selfheal.kube_objects import name_of
from selfheal.model.diagnosis import (
    ActionKind,
    DiagnosisCategory,
    FixKind,
    FixLimits,
    FixProposal,
    RemediationAction,
)
from selfheal.redaction import is_sensitive_name

PROBE_FIELDS = ("livenessProbe", "readinessProbe", "startupProbe")
PROBE_SECONDS = ("initialDelaySeconds", "periodSeconds", "timeoutSeconds")
PROBE_THRESHOLDS = ("failureThreshold", "successThreshold")


class _PatchCheck:
    """Walks a workload patch and records every field outside the allow-list: the pod
    template where the workload's kind keeps it, and replicas where the kind has them."""

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
        kind = self.view.kind
        top = self.only(patch, {"apiVersion", "kind", "metadata", "spec"}, "patch")
        if top.get("kind", kind) != kind:
            self.refuse(f"patch.kind {top['kind']} is not a {kind}, the workload's kind")
        metadata = self.only(top.get("metadata", {}), {"name", "namespace"}, "metadata")
        if metadata.get("name", self.view.context.workload) != self.view.context.workload:
            self.refuse(f"metadata.name {metadata['name']} is another {kind}")
        if metadata.get("namespace", self.view.context.namespace) != self.view.context.namespace:
            self.refuse(f"metadata.namespace {metadata['namespace']} is another namespace")
        spec_keys = {"jobTemplate"} if kind == "CronJob" else {"template"}
        if kind in SCALABLE_KINDS:
            spec_keys.add("replicas")
        spec = self.only(top.get("spec", {}), spec_keys, "spec")
        if "replicas" in spec:
            self.replicas(spec["replicas"])
        where = "spec.template"
        if kind == "CronJob":
            job_template = self.only(spec.get("jobTemplate", {}), {"spec"}, "spec.jobTemplate")
            spec = self.only(job_template.get("spec", {}), {"template"}, "spec.jobTemplate.spec")
            where = "spec.jobTemplate.spec.template"
        template = self.only(spec.get("template", {}), {"metadata", "spec"}, where)
        template_meta = self.only(
            template.get("metadata", {}), {"annotations"}, f"{where}.metadata"
        )
        self.only(
            template_meta.get("annotations", {}),
            {RESTARTED_AT},
            f"{where}.metadata.annotations",
        )
        pod = self.only(template.get("spec", {}), {"containers"}, f"{where}.spec")
        containers = pod.get("containers", [])
        if not isinstance(containers, list):
            self.refuse(f"{where}.spec.containers must be a list")
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
                    f"{where}.image {fields['image']} never ran in this {self.view.kind} "
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
    """Why fewer replicas than the workload runs may not be proposed, or None.

    A scale-down removes capacity: it is destructive whatever the proposal calls itself.
    """
    current = view.desired_replicas if view.context.workload_object() is not None else None
    if current is None or replicas >= current or limits.allow_delete_pods:
        return None
    return (
        f"replicas {replicas} is below the current {current}: a scale-down is destructive "
        "and SELFHEAL_ALLOW_DESTRUCTIVE is off"
    )


def images_ran(view: WorkloadView) -> dict[str, set[str]]:
    """Return, per container, every image the workload's revisions have run (its
    ReplicaSets, ControllerRevisions or Jobs) and its template names now."""
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
        reasons.append(f"action: {namespace_refusal(action.namespace, ())}")
    if action.namespace != context.namespace:
        reasons.append(
            f"action: namespace {action.namespace} is not the incident's {context.namespace}"
        )
    if action.deployment != context.workload:
        reasons.append(
            f"action: deployment {action.deployment} is not the incident's {context.workload}"
        )
    if action.workload_kind != context.kind:
        reasons.append(
            f"action: kind {action.workload_kind} is not the workload's kind {context.kind}"
        )
    if action.kind == ActionKind.ROLLBACK and context.kind != "Deployment":
        reasons.append(f"action: a {context.kind} has no rollout revision to roll back to")
    if action.kind == ActionKind.SCALE and context.kind not in SCALABLE_KINDS:
        reasons.append(f"action: a {context.kind} has no replicas to scale")
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
    proposal: FixProposal,
    context: ClusterContext,
    limits: FixLimits,
    category: DiagnosisCategory | None = None,
) -> list[str]:
    """Return why a proposal is unsafe (empty when it stays inside the allow-list).

    `category` is the diagnosis' failure class: a class listed in unfixable.py allows
    nothing but the `none` proposal.
    """
    view = WorkloadView(context)
    reasons = []
    if context.namespace in PROTECTED_NAMESPACES:
        reasons.append(str(namespace_refusal(context.namespace, ())))
    unfixable = no_safe_fix_reason(category) if category is not None else None
    if unfixable and proposal.kind != FixKind.NONE:
        reasons.append(unfixable)
    if proposal.kind == FixKind.NONE:
        if proposal.manifest_patch or (proposal.action and proposal.action.kind != ActionKind.NONE):
            reasons.append("a proposal of kind none must change nothing")
        return reasons
    if context.workload_object() is None:
        reasons.append(f"{context.kind} {context.namespace}/{context.workload} was not found")
    unchangeable = no_fix_for_kind(context.kind)
    if unchangeable:
        reasons.append(unchangeable)
    if proposal.workload_kind != context.kind:
        reasons.append(
            f"the proposal patches a {proposal.workload_kind}, the workload is a {context.kind}"
        )
    reasons += _PatchCheck(view, limits, "manifest_patch").check(proposal.manifest_patch)
    if proposal.action is not None:
        reasons += _check_action(proposal.action, view, limits)
    return reasons
