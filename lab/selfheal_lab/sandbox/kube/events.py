"""Events as the kubelet, scheduler and controllers record them, and the events.k8s.io view."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from selfheal_lab.sandbox.kube.errors import ApiError
from selfheal_lab.sandbox.kube.resources import EVENTS
from selfheal_lab.sandbox.kube.store import Obj, Store, now_rfc3339


def involved_object(obj: Obj, field_path: str = "") -> dict[str, Any]:
    """Return the ObjectReference an event about `obj` carries."""
    meta = obj["metadata"]
    reference = {
        "kind": obj.get("kind"),
        "namespace": meta.get("namespace", ""),
        "name": meta["name"],
        "uid": meta.get("uid"),
        "apiVersion": obj.get("apiVersion"),
        "resourceVersion": meta.get("resourceVersion"),
    }
    if field_path:
        reference["fieldPath"] = field_path
    return reference


@dataclass
class EventRecorder:
    """Writes core/v1 Events, folding repeats into one Event with a rising count, like client-go."""

    store: Store
    _index: dict[tuple[str, ...], str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(
        self,
        obj: Obj,
        event_type: str,
        reason: str,
        message: str,
        component: str,
        host: str = "",
        field_path: str = "",
    ) -> None:
        """Record one occurrence of an event about `obj`."""
        reference = involved_object(obj, field_path)
        namespace = reference["namespace"] or "default"
        key = (namespace, str(reference["uid"]), field_path, event_type, reason, message, component)
        stamp = now_rfc3339()
        with self._lock:
            name = self._index.get(key)
            if name is not None:

                def bump(event: Obj) -> None:
                    event["count"] = int(event.get("count", 1)) + 1
                    event["lastTimestamp"] = stamp

                if self.store.mutate(EVENTS, namespace, name, bump) is not None:
                    return
            name = f"{reference['name']}.{time.time_ns():x}"
            self._index[key] = name
        source: dict[str, str] = {"component": component}
        if host:
            source["host"] = host
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": reference,
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "type": event_type,
            "eventTime": None,
            "reportingComponent": component,
            "reportingInstance": host,
        }
        with contextlib.suppress(ApiError):  # the namespace went away meanwhile
            self.store.create(EVENTS, namespace, event)


def _micro_time(stamp: str | None) -> str | None:
    if not stamp:
        return None
    return stamp.replace("Z", ".000000Z") if "." not in stamp else stamp


def to_events_v1(event: Obj) -> Obj:
    """Return a stored core/v1 Event as events.k8s.io/v1 presents it."""
    source = event.get("source") or {}
    converted: Obj = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": event.get("metadata", {}),
        "eventTime": event.get("eventTime")
        or _micro_time(event.get("firstTimestamp"))
        or _micro_time(event["metadata"].get("creationTimestamp")),
        "reportingController": event.get("reportingComponent") or source.get("component", ""),
        "reportingInstance": event.get("reportingInstance") or source.get("host", ""),
        "action": event.get("action") or event.get("reason", ""),
        "reason": event.get("reason", ""),
        "regarding": event.get("involvedObject", {}),
        "note": event.get("message", ""),
        "type": event.get("type", "Normal"),
        "deprecatedSource": source,
        "deprecatedFirstTimestamp": event.get("firstTimestamp"),
        "deprecatedLastTimestamp": event.get("lastTimestamp"),
        "deprecatedCount": event.get("count", 1),
    }
    if event.get("related"):
        converted["related"] = event["related"]
    if event.get("series"):
        converted["series"] = event["series"]
    return converted


def from_events_v1(event: Obj) -> Obj:
    """Return an events.k8s.io/v1 Event as the core/v1 Event stored for it."""
    source = event.get("deprecatedSource") or {"component": event.get("reportingController", "")}
    stamp = event.get("eventTime") or now_rfc3339()
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": event.get("metadata", {}),
        "involvedObject": event.get("regarding") or {},
        "reason": event.get("reason", ""),
        "message": event.get("note", ""),
        "source": source,
        "firstTimestamp": event.get("deprecatedFirstTimestamp") or stamp[:19] + "Z",
        "lastTimestamp": event.get("deprecatedLastTimestamp") or stamp[:19] + "Z",
        "count": event.get("deprecatedCount") or (event.get("series") or {}).get("count", 1),
        "type": event.get("type", "Normal"),
        "eventTime": event.get("eventTime"),
        "action": event.get("action"),
        "reportingComponent": event.get("reportingController", ""),
        "reportingInstance": event.get("reportingInstance", ""),
        **({"related": event["related"]} if event.get("related") else {}),
        **({"series": event["series"]} if event.get("series") else {}),
    }
