"""Storage: pods held back by their volumes, read from the pods and their events.

- The scheduler's VolumeBinding plugin (pkg/scheduler/framework/plugins/volumebinding):
  FailedScheduling and PodScheduled=False with "pod has unbound immediate
  PersistentVolumeClaims", `persistentvolumeclaim "<name>" not found` (and "... bound to
  non-existent persistentvolume", "... is being deleted"), or a filter reason such as
  "node(s) had volume node affinity conflict".
- The attach-detach controller: FailedAttachVolume, `AttachVolume.Attach failed for volume
  "<name>" : <err>` or `Multi-Attach error for volume "<name>" Volume is already ...`.
- The kubelet's volume manager: FailedMount, `MountVolume.SetUp failed for volume "<name>" :
  <err>` and its siblings, or "Unable to attach or mount volumes: ...".

A missing Secret or ConfigMap in a FailedMount is config_error's (asked first); the kubelet's
transient `object "<ns>"/"<name>" not registered` is no storage failure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from selfheal.activities.analysis.config_error import missing_config
from selfheal.activities.analysis.messages import normalize, same
from selfheal.activities.analysis.workload import WorkloadView
from selfheal.kube_objects import Obj, name_of
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory, Evidence, FixKind

_I = re.IGNORECASE
_MISSING_CLAIM = re.compile(
    r"persistentvolumeclaims? \"(?P<claim>[^\"]+)\" not found"
    r"|waiting for ephemeral volume controller to create the persistentvolumeclaim "
    r"\"(?P<ephemeral>[^\"]+)\"",
    _I,
)
_UNBOUND = re.compile(
    r"unbound immediate persistentvolumeclaims"
    r"|persistentvolumeclaim \"(?P<claim>[^\"]+)\" (?:bound to non-existent persistentvolume"
    r"|is being deleted)",
    _I,
)
_NO_NODE_FITS = re.compile(
    r"didn't find available persistent volumes to bind|volume node affinity conflict"
    r"|didn't match persistentvolume's node affinity|did not have enough free storage"
    r"|pvc\(s\) bound to non-existent pv\(s\)",
    _I,
)
_MULTI_ATTACH = re.compile(
    r"(?:multi-attach error|waiting for detach) for volume \"(?P<volume>[^\"]+)\" ?(?P<why>.*)", _I
)
_ATTACH = re.compile(
    r"attachvolume\.attach failed for volume \"(?P<volume>[^\"]+)\" ?:? ?(?P<why>.*)", _I
)
_MOUNT = re.compile(
    r"mountvolume\.[\w.]+(?: initialization| check)? failed(?: while expanding volume)? "
    r"for volume \"(?P<volume>[^\"]+)\" ?:? ?(?P<why>.*)"
    r"|unable to attach or mount volumes: (?P<summary>.*)",
    _I,
)
_OUTPUT = re.compile(r"\boutput: (?P<output>.+)$", _I)
_NOT_REGISTERED = re.compile(r"object \"[^\"]+\"/\"[^\"]+\" not registered", _I)

_ORDER = ("missing_claim", "unbound", "no_node_fits", "multi_attach", "attach", "mount")


@dataclass
class VolumeProblem:
    """What holds the pods back, the first message that says so, and where it was read."""

    kind: str
    message: str
    name: str | None = None
    pods: set[str] = field(default_factory=set)
    evidence: list[Evidence] = field(default_factory=list)


def _classify(message: str) -> tuple[str, str | None] | None:
    """Return (kind, claim or volume) for a storage message, or None."""
    if match := _MISSING_CLAIM.search(message):
        return "missing_claim", match["claim"] or match["ephemeral"]
    if match := _UNBOUND.search(message):
        return "unbound", match["claim"]
    if _NO_NODE_FITS.search(message):
        return "no_node_fits", None
    if match := _MULTI_ATTACH.search(message):
        return "multi_attach", match["volume"]
    if match := _ATTACH.search(message):
        return "attach", match["volume"]
    if (match := _MOUNT.search(message)) and not missing_config(message):
        if _NOT_REGISTERED.search(message):
            return None
        return "mount", match["volume"]
    return None


def claims_of(pod: Obj) -> list[str]:
    """Return the PersistentVolumeClaims a pod mounts (generic ephemeral ones included)."""
    claims = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            claims.append(str(claim))
        elif volume.get("ephemeral"):
            claims.append(f"{name_of(pod)}-{volume.get('name')}")
    return claims


def volume_problems(view: WorkloadView) -> list[VolumeProblem]:
    """Return the storage problems of the workload's pending pods, worst first."""
    pending = {
        name_of(pod): pod
        for pod in view.pods
        if same((pod.get("status") or {}).get("phase"), "Pending")
    }
    found: dict[str, VolumeProblem] = {}

    def note(kind: str, name: str | None, pod: str, message: str, evidence: Evidence) -> None:
        problem = found.setdefault(kind, VolumeProblem(kind, message, name))
        problem.pods.add(pod)
        if len(problem.evidence) < 2:
            problem.evidence.append(evidence)

    for pod, event in view.pod_events({"FailedScheduling", "FailedMount", "FailedAttachVolume"}):
        message = view.event_message(event)
        classified = _classify(message)
        if pod in pending and classified and view.event_is_recent(event):
            note(*classified, pod, message, view.event_evidence("Pod", pod, event))
    for pod_name, pending_pod in pending.items():
        condition = view.pod_condition(pending_pod, "PodScheduled")
        message = normalize(condition.get("message"))
        classified = _classify(message) if same(condition.get("status"), "False") else None
        if classified:
            note(
                *classified,
                pod_name,
                message,
                Evidence(
                    source=f"pod/{pod_name} status.conditions[PodScheduled]",
                    detail=f"status=False reason={condition.get('reason', '')} "
                    f"message={condition.get('message', '')}",
                ),
            )
    return sorted(found.values(), key=lambda problem: _ORDER.index(problem.kind))


_ADVICE = {
    "missing_claim": "Create PersistentVolumeClaim {name} in the namespace, or correct the "
    "claimName in the pod template.",
    "unbound": "Read `kubectl describe pvc {name}`: its events say why it is not bound (no "
    "StorageClass, a provisioner that does not answer, no matching PersistentVolume).",
    "no_node_fits": "No node can use the volumes the pods need (zone or node affinity of the "
    "PersistentVolumes, or free storage): check the PersistentVolumes' node affinity and the "
    "StorageClass' topology.",
    "multi_attach": "Volume {name} is ReadWriteOnce and still attached to the node of the pod "
    "that used it before. It detaches once that pod is gone; a Deployment with a "
    "ReadWriteOnce volume needs strategy Recreate (or a StatefulSet).",
    "attach": "The attach-detach controller cannot attach volume {name}: check the CSI driver "
    "or cloud volume it names (attachment limits, zone, the volume's state).",
    "mount": "The kubelet cannot mount volume {name}: check the storage backend the error "
    "names (NFS server, CSI driver node plugin) from the node.",
}


class Storage:
    """Pending pods held back by PersistentVolumeClaims, attachments or mounts."""

    name = "storage"

    def diagnose(self, view: WorkloadView) -> Diagnosis | None:
        problems = volume_problems(view)
        if not problems:
            return None
        main = problems[0]
        pending = [view.pod(pod) for pod in sorted(main.pods)]
        claims = sorted({claim for pod in pending for claim in claims_of(pod)})
        name = main.name or (", ".join(claims) if claims else "?")
        evidence = [e for problem in problems for e in problem.evidence][:4]
        for pod in pending[:1]:
            evidence += self._volumes(pod)
        why = ""
        if main.kind == "unbound":
            claim_evidence, why = self._claims(view, claims)
            evidence += claim_evidence
        return Diagnosis(
            category=DiagnosisCategory.STORAGE,
            summary=f"{len(main.pods)} pod(s) held back by storage: {self._what(main, name)}"
            + (f" ({why})" if why else ""),
            evidence=evidence,
            confidence={"mount": 0.8, "attach": 0.85}.get(main.kind, 0.9),
            containers=[str(c.get("name")) for c in view.template_containers()],
            suggested_fix=FixKind.NONE,
            recommendation=_ADVICE[main.kind].format(name=name),
        )

    @staticmethod
    def _claims(view: WorkloadView, names: list[str]) -> tuple[list[Evidence], str]:
        """Cite the unbound claims themselves: phase, StorageClass, and the newest warning
        about each (the provisioner's ProvisioningFailed says why). Returns the evidence and
        the first warning's message."""
        found: list[Evidence] = []
        why = ""
        claims = {name_of(claim): claim for claim in view.context.persistent_volume_claims}
        for name in names[:2]:
            claim = claims.get(name)
            if claim is None:
                continue
            spec, status = claim.get("spec") or {}, claim.get("status") or {}
            found.append(
                Evidence(
                    source=f"persistentvolumeclaim/{name} status",
                    detail=f"phase={status.get('phase', '?')} "
                    f"storageClassName={spec.get('storageClassName', '(default)')}",
                )
            )
            warnings = [
                event
                for event in view.events_for("PersistentVolumeClaim", name)
                if same(event.get("type"), "Warning")
            ]
            if warnings:
                found.append(view.event_evidence("PersistentVolumeClaim", name, warnings[-1]))
                why = why or view.event_message(warnings[-1])
        return found, why

    @staticmethod
    def _what(problem: VolumeProblem, name: str) -> str:
        detail = _detail(problem)
        return {
            "missing_claim": f"PersistentVolumeClaim {name} does not exist",
            "unbound": f"PersistentVolumeClaim {name} is not bound",
            "no_node_fits": f"no node can use their volumes ({problem.message})",
            "multi_attach": f"volume {name} is still attached to another node ({detail})",
            "attach": f"volume {name} cannot be attached: {detail}",
            "mount": f"volume {name} cannot be mounted: {detail}",
        }[problem.kind]

    @staticmethod
    def _volumes(pod: Obj) -> list[Evidence]:
        found = []
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            kind = next((key for key in volume if key != "name"), "?")
            if kind in {"projected", "configMap", "secret", "downwardAPI", "emptyDir"}:
                continue
            source = volume.get(kind)
            detail = (
                ", ".join(f"{k}={v}" for k, v in sorted(source.items()))
                if isinstance(source, dict)
                else ""
            )
            found.append(
                Evidence(
                    source=f"pod/{name_of(pod)} spec.volumes[{volume.get('name')}]",
                    detail=f"{kind} {detail}".strip(),
                )
            )
        return found[:2]


def _detail(problem: VolumeProblem) -> str:
    """The failure's own words: the mount tool's output when the kubelet quotes it."""
    for pattern in (_MULTI_ATTACH, _ATTACH, _MOUNT):
        match = pattern.search(problem.message)
        if match:
            why = match.groupdict().get("why") or match.groupdict().get("summary") or ""
            output = _OUTPUT.search(why)
            if output:
                first = why.split(" Mounting command:")[0]
                return f"{output['output']} ({first})"[:300]
            return why[:300] or problem.message[:300]
    return problem.message[:300]
