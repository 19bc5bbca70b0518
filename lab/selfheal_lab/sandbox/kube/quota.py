"""ResourceQuota admission for pods, as the API server's quota plugin answers it.

A pod is refused when, for a resource a quota in its namespace caps, the usage of the
namespace's live pods plus the pod's own would pass the hard limit; the refusal reads like
the apiserver's (`pods "<name>" is forbidden: exceeded quota: <quota>, requested: …, used:
…, limited: …`, plugin/pkg/admission/resourcequota/controller.go). Counted: `pods`,
`count/pods`, `requests.<r>` (or a bare `<r>`) and `limits.<r>` for any resource, extended
ones (`nvidia.com/gpu`) included. Quotas with scopes are not simulated and admit everything.
"""

from __future__ import annotations

from typing import Any

from selfheal_lab.sandbox.kube.quantity import parse_quantity
from selfheal_lab.sandbox.kube.resources import PODS, RESOURCE_QUOTAS
from selfheal_lab.sandbox.kube.store import Obj, Store

_BINARY = ("memory", "storage", "ephemeral-storage")


def _container_amount(container: dict[str, Any], key: str) -> float:
    resources = container.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    if key.startswith("limits."):
        value = limits.get(key.removeprefix("limits."))
    else:
        name = key.removeprefix("requests.")
        # The API server defaults a missing request to the limit.
        value = requests.get(name, limits.get(name))
    return 0.0 if value is None else parse_quantity(str(value))


def usage(pod: Obj, key: str) -> float | None:
    """What `pod` uses of quota resource `key`, or None for a resource not counted here."""
    if key in ("pods", "count/pods"):
        return 1.0
    if "/" in key and not key.startswith(("requests.", "limits.")) and "." not in key:
        return None  # count/<other objects>
    containers = (pod.get("spec") or {}).get("containers") or []
    return sum(_container_amount(container, key) for container in containers)


def _canonical(key: str, amount: float) -> str:
    """A quantity as the API server prints it: 256Mi, 500m, 2."""
    if any(key.endswith(name) for name in _BINARY):
        for suffix, size in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
            if amount >= size and amount % size == 0:
                return f"{int(amount // size)}{suffix}"
        return str(int(amount))
    if amount != int(amount):
        return f"{round(amount * 1000)}m"
    return str(int(amount))


def _live(pod: Obj) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp")


def _pretty(amounts: dict[str, float]) -> str:
    return ",".join(f"{key}={_canonical(key, amounts[key])}" for key in sorted(amounts))


def quota_refusal(store: Store, pod: Obj) -> str | None:
    """Return the API server's refusal of creating `pod`, or None when every quota admits it."""
    namespace = pod["metadata"]["namespace"]
    quotas = store.peek(RESOURCE_QUOTAS, namespace)
    if not quotas:
        return None
    others = [p for p in store.peek(PODS, namespace) if _live(p)]
    for quota in sorted(quotas, key=lambda q: str(q["metadata"]["name"])):
        spec = quota.get("spec") or {}
        if spec.get("scopes") or spec.get("scopeSelector"):
            continue
        requested: dict[str, float] = {}
        used: dict[str, float] = {}
        limited: dict[str, float] = {}
        for key, hard in (spec.get("hard") or {}).items():
            wanted = usage(pod, key)
            if not wanted:
                continue
            in_use = sum(usage(other, key) or 0.0 for other in others)
            if in_use + wanted > parse_quantity(str(hard)):
                requested[key], used[key], limited[key] = wanted, in_use, parse_quantity(str(hard))
        if requested:
            return (
                f'pods "{pod["metadata"]["name"]}" is forbidden: exceeded quota: '
                f"{quota['metadata']['name']}, requested: {_pretty(requested)}, used: "
                f"{_pretty(used)}, limited: {_pretty(limited)}"
            )
    return None
