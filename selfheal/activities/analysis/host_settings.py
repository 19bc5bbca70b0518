"""Which setting of the workload names a host: an env var, an argument, a ConfigMap key.

The context is redacted before the rules see it (snapshots.py): every env `value` becomes
[REDACTED] and ConfigMap values are removed, keys kept. What survives is matched exactly
(container args and command, and any value a context still carries); a redacted setting is
matched by its name instead (`ORDERS_DB_HOST` for `orders-db`) and cited as probable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selfheal.activities.analysis.workload import WorkloadView
from selfheal.kube_objects import Obj, name_of
from selfheal.model.diagnosis import Evidence
from selfheal.redaction import REDACTED

_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_IP = re.compile(r"^\[?[0-9a-f:.]+\]?$", re.IGNORECASE)


@dataclass(frozen=True)
class HostSetting:
    """One setting that names (or probably names) a host."""

    label: str
    """How a person finds it: `env ORDERS_DB_HOST`, `ConfigMap orders-config key db-host`."""
    evidence: Evidence
    exact: bool


def _words(name: str) -> set[str]:
    return set(_WORD.findall(_CAMEL.sub("_", name).lower()))


def _host_words(host: str) -> set[str]:
    """The words of a host's first label (`orders-db.shop.svc` -> orders, db)."""
    return set() if _IP.match(host) else _words(host.split(".")[0])


def _template_containers(view: WorkloadView) -> list[Obj]:
    spec = view.template_spec()
    return [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]


def settings_naming(view: WorkloadView, host: str) -> list[HostSetting]:
    """Return the workload's settings that name `host`: exact matches first, then probable."""
    found: list[HostSetting] = []
    words = _host_words(host)

    def probable(name: str) -> bool:
        return bool(words) and words <= _words(name)

    base = f"{view.ref} {view.containers_path}"
    configmaps = {name_of(cm): cm for cm in view.context.configmaps}

    def add(label: str, source: str, detail: str, exact: bool) -> None:
        if all(item.label != label for item in found):
            found.append(HostSetting(label, Evidence(source=source, detail=detail), exact))

    for container in _template_containers(view):
        cname = container.get("name", "")
        for field in ("command", "args"):
            for arg in container.get(field) or []:
                if host in str(arg):
                    add(f"{field} of {cname}", f"{base}[{cname}].{field}", str(arg), True)
        for env in container.get("env") or []:
            name, value = str(env.get("name", "")), env.get("value")
            source = f"{base}[{cname}].env[{name}]"
            ref = (env.get("valueFrom") or {}).get("configMapKeyRef") or {}
            if isinstance(value, str) and value != REDACTED and host in value:
                add(f"env {name}", source, f"{name}={value}", True)
            elif probable(name) or (ref and probable(str(ref.get("key", "")))):
                if ref:
                    detail = f"from ConfigMap {ref.get('name')} key {ref.get('key')}"
                else:
                    detail = "value redacted in the context"
                add(f"env {name}", source, f"{name} ({detail})", False)
        for env_from in container.get("envFrom") or []:
            ref_name = str((env_from.get("configMapRef") or {}).get("name", ""))
            for key in sorted((configmaps.get(ref_name, {}).get("data") or {}).keys()):
                if probable(key):
                    add(
                        f"ConfigMap {ref_name} key {key}",
                        f"configmap/{ref_name} data[{key}]",
                        f"{key} (envFrom of {cname}; value removed from the context)",
                        False,
                    )
    for cm_name, configmap in sorted(configmaps.items()):
        for key, value in sorted((configmap.get("data") or {}).items()):
            if value and host in str(value):
                label = f"ConfigMap {cm_name} key {key}"
                add(label, f"configmap/{cm_name} data[{key}]", f"{key}={value}", True)
    return sorted(found, key=lambda item: not item.exact)
