"""The stand-in's object store: thread-safe, versioned, watchable, with the apiserver's rules."""

from __future__ import annotations

import contextlib
import copy
import random
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from selfheal_lab.sandbox.kube.errors import ApiError
from selfheal_lab.sandbox.kube.resources import RESOURCE_TYPES, ResourceType
from selfheal_lab.sandbox.kube.selectors import Matcher

Obj = dict[str, Any]
StorageKey = tuple[str, str]  # (group, plural)

NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
HISTORY_SIZE = 50_000


def now_rfc3339() -> str:
    """Return the current time the way Kubernetes timestamps look."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def random_suffix(length: int = 5) -> str:
    """Return a random name suffix from the alphabet Kubernetes uses for generated names."""
    return "".join(random.choice(NAME_ALPHABET) for _ in range(length))


def storage_key(rtype: ResourceType) -> StorageKey:
    """Return where a type's objects live; both Event APIs share the core/v1 objects."""
    if rtype.plural == "events":
        return ("", "events")
    return (rtype.group, rtype.plural)


@dataclass
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED
    object: Obj
    resource_version: int


@dataclass
class Watcher:
    """A subscription; `deliver` is called (on the writer's thread) for each matching event."""

    key: StorageKey
    namespace: str | None
    matcher: Matcher
    deliver: Callable[[WatchEvent], None]


@dataclass
class Store:
    """Every object the stand-in holds, keyed by type, namespace and name."""

    _objects: dict[StorageKey, dict[tuple[str, str], Obj]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _version: int = 0
    _history: deque[tuple[StorageKey, WatchEvent]] = field(
        default_factory=lambda: deque(maxlen=HISTORY_SIZE)
    )
    _watchers: list[Watcher] = field(default_factory=list)
    logs: dict[tuple[str, str, str, bool], str] = field(default_factory=dict)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Hold the store so that the control loops see the writes inside as one change."""
        with self._lock:
            yield

    # ---- reads -------------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        return self._version

    def get(self, rtype: ResourceType, namespace: str, name: str) -> Obj:
        """Return a copy of one object; raise ApiError 404 when it does not exist."""
        with self._lock:
            obj = self._bucket(rtype).get((namespace if rtype.namespaced else "", name))
            if obj is None:
                raise ApiError.not_found(rtype, name)
            return copy.deepcopy(obj)

    def find(self, rtype: ResourceType, namespace: str, name: str) -> Obj | None:
        """Return a copy of one object, or None."""
        try:
            return self.get(rtype, namespace, name)
        except ApiError:
            return None

    def list(
        self,
        rtype: ResourceType,
        namespace: str | None = None,
        matcher: Matcher | None = None,
    ) -> tuple[list[Obj], int]:
        """Return copies of the matching objects (by namespace, name) and the list's version."""
        with self._lock:
            items = [
                copy.deepcopy(obj)
                for (ns, _), obj in sorted(self._bucket(rtype).items())
                if (namespace is None or ns == namespace) and (matcher is None or matcher(obj))
            ]
            return items, self._version

    def peek(self, rtype: ResourceType, namespace: str | None = None) -> Sequence[Obj]:
        """Return the stored objects themselves, uncopied, ordered as `list` orders them.

        For the control loops' read-only scans, which must not change what they get. A write
        stores a new object rather than changing the old one, so a peeked object keeps the
        state it had when peeked.
        """
        with self._lock:
            return [
                obj
                for (ns, _), obj in sorted(self._bucket(rtype).items())
                if namespace is None or ns == namespace
            ]

    def namespace_exists(self, namespace: str) -> bool:
        with self._lock:
            return ("", namespace) in self._objects.get(("", "namespaces"), {})

    def uid_exists(self, uid: str) -> bool:
        """Return whether any object carries this uid (owner references point at uids)."""
        with self._lock:
            return any(
                (o.get("metadata") or {}).get("uid") == uid
                for bucket in self._objects.values()
                for o in bucket.values()
            )

    def all_uids(self) -> set[str]:
        with self._lock:
            return {
                o["metadata"]["uid"]
                for bucket in self._objects.values()
                for o in bucket.values()
                if "uid" in o.get("metadata", {})
            }

    # ---- writes ------------------------------------------------------------------------

    def create(self, rtype: ResourceType, namespace: str, obj: Obj) -> Obj:
        """Store a new object as sent (status included) and return it with server metadata."""
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + random_suffix()
        name = meta.get("name") or ""
        if not name:
            raise ApiError.invalid(
                rtype, "", "metadata.name", "Required value: name or generateName is required"
            )
        with self._lock:
            if rtype.namespaced:
                namespace = namespace or meta.get("namespace") or "default"
                if not self.namespace_exists(namespace):
                    raise ApiError.namespace_not_found(namespace)
                meta["namespace"] = namespace
            else:
                namespace = ""
                meta.pop("namespace", None)
            bucket = self._bucket(rtype)
            if (namespace, name) in bucket:
                raise ApiError.already_exists(rtype, name)
            # A client-sent uid is kept (unlike the apiserver) so a loaded snapshot's owner
            # references and event subjects still point at the right objects.
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", now_rfc3339())
            meta["generation"] = 1
            meta.pop("resourceVersion", None)
            obj.setdefault("apiVersion", rtype.group_version)
            obj.setdefault("kind", rtype.kind)
            if rtype.kind == "Namespace":
                obj.setdefault("spec", {"finalizers": ["kubernetes"]})
                obj.setdefault("status", {"phase": "Active"})
                meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
            self._commit(rtype, (namespace, name), obj, "ADDED")
            return copy.deepcopy(obj)

    def replace(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        obj: Obj,
        subresource: str | None = None,
    ) -> Obj:
        """Replace an object (PUT); the main resource keeps its status, `status` keeps its spec."""
        with self._lock:
            current = self.get(rtype, namespace, name)
            sent_version = (obj.get("metadata") or {}).get("resourceVersion")
            if sent_version and sent_version != current["metadata"]["resourceVersion"]:
                raise ApiError.conflict(rtype, name)
            if subresource == "status":
                updated = copy.deepcopy(current)
                updated["status"] = copy.deepcopy(obj.get("status") or {})
            else:
                updated = copy.deepcopy(obj)
                updated.setdefault("apiVersion", current.get("apiVersion"))
                updated.setdefault("kind", current.get("kind"))
                meta = updated.setdefault("metadata", {})
                for fixed in ("uid", "creationTimestamp", "namespace", "generation"):
                    if fixed in current["metadata"]:
                        meta[fixed] = current["metadata"][fixed]
                meta["name"] = name
                if "status" in current and rtype.kind not in ("Secret", "ConfigMap"):
                    updated["status"] = current["status"]
                if updated.get("spec") != current.get("spec"):
                    meta["generation"] = int(current["metadata"].get("generation", 1)) + 1
            return self._update_if_changed(rtype, current, updated)

    def mutate(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        change: Callable[[Obj], None],
    ) -> Obj | None:
        """Apply `change` to a copy under the lock and commit it if anything changed.

        This is how the simulated controllers and kubelet write: no conflicts, no version bump
        when nothing changed. Returns the stored object, or None if it no longer exists.
        """
        with self._lock:
            current = self.find(rtype, namespace, name)
            if current is None:
                return None
            updated = copy.deepcopy(current)
            change(updated)
            if updated.get("spec") != current.get("spec"):
                meta = updated["metadata"]
                meta["generation"] = int(current["metadata"].get("generation", 1)) + 1
            return self._update_if_changed(rtype, current, updated)

    def delete(self, rtype: ResourceType, namespace: str, name: str) -> Obj:
        """Remove an object at once and return its last state."""
        with self._lock:
            key = (namespace if rtype.namespaced else "", name)
            bucket = self._bucket(rtype)
            if key not in bucket:
                raise ApiError.not_found(rtype, name)
            obj = bucket.pop(key)
            self._version += 1
            obj["metadata"]["resourceVersion"] = str(self._version)
            self._publish(storage_key(rtype), WatchEvent("DELETED", obj, self._version))
            if rtype.kind == "Namespace":
                self._drop_namespace(name)
            if rtype.kind == "Pod":
                for log_key in [k for k in self.logs if k[:2] == (namespace, name)]:
                    del self.logs[log_key]
            return copy.deepcopy(obj)

    # ---- watches -----------------------------------------------------------------------

    def watch(
        self,
        rtype: ResourceType,
        namespace: str | None,
        matcher: Matcher,
        deliver: Callable[[WatchEvent], None],
        since: int | None,
    ) -> Watcher:
        """Subscribe to changes; replay history after `since`, or current objects as ADDED.

        Raises ApiError 410 when `since` is older than the kept history.
        """
        key = storage_key(rtype)
        watcher = Watcher(key, namespace, matcher, deliver)
        with self._lock:
            if since is None:
                for obj in self.list(rtype, namespace, matcher)[0]:
                    version = int(obj["metadata"]["resourceVersion"])
                    deliver(WatchEvent("ADDED", obj, version))
            else:
                oldest = self._history[0][1].resource_version if self._history else None
                if oldest is not None and since < oldest - 1 and len(self._history) >= HISTORY_SIZE:
                    raise ApiError(
                        410, "Expired", f"too old resource version: {since} ({oldest - 1})"
                    )
                for event_key, event in self._history:
                    if event.resource_version > since and self._wants(watcher, event_key, event):
                        deliver(
                            WatchEvent(
                                event.type, copy.deepcopy(event.object), event.resource_version
                            )
                        )
            self._watchers.append(watcher)
        return watcher

    def unwatch(self, watcher: Watcher) -> None:
        with self._lock:
            if watcher in self._watchers:
                self._watchers.remove(watcher)

    # ---- pod logs ----------------------------------------------------------------------

    def set_log(self, namespace: str, pod: str, container: str, text: str, previous: bool) -> None:
        """Set a container's log text (current or previous instance)."""
        with self._lock:
            self.logs[(namespace, pod, container, previous)] = text

    def append_log(self, namespace: str, pod: str, container: str, lines: Sequence[str]) -> None:
        with self._lock:
            key = (namespace, pod, container, False)
            self.logs[key] = self.logs.get(key, "") + "".join(line + "\n" for line in lines)

    def get_log(self, namespace: str, pod: str, container: str, previous: bool) -> str | None:
        with self._lock:
            return self.logs.get((namespace, pod, container, previous))

    # ---- internals ---------------------------------------------------------------------

    def _bucket(self, rtype: ResourceType) -> dict[tuple[str, str], Obj]:
        return self._objects.setdefault(storage_key(rtype), {})

    def _update_if_changed(self, rtype: ResourceType, current: Obj, updated: Obj) -> Obj:
        updated["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        if updated == current:
            return updated
        meta = updated["metadata"]
        key = (meta.get("namespace", "") if rtype.namespaced else "", meta["name"])
        self._commit(rtype, key, updated, "MODIFIED")
        return copy.deepcopy(updated)

    def _commit(self, rtype: ResourceType, key: tuple[str, str], obj: Obj, kind: str) -> None:
        self._version += 1
        obj["metadata"]["resourceVersion"] = str(self._version)
        self._bucket(rtype)[key] = obj
        self._publish(storage_key(rtype), WatchEvent(kind, copy.deepcopy(obj), self._version))

    def _wants(self, watcher: Watcher, key: StorageKey, event: WatchEvent) -> bool:
        if watcher.key != key:
            return False
        namespace = event.object.get("metadata", {}).get("namespace", "")
        if watcher.namespace is not None and namespace != watcher.namespace:
            return False
        return watcher.matcher(event.object)

    def _publish(self, key: StorageKey, event: WatchEvent) -> None:
        self._history.append((key, event))
        for watcher in list(self._watchers):
            if self._wants(watcher, key, event):
                watcher.deliver(
                    WatchEvent(event.type, copy.deepcopy(event.object), event.resource_version)
                )

    def _drop_namespace(self, namespace: str) -> None:
        for rtype in self._namespaced_types():
            for ns, name in [k for k in self._bucket(rtype) if k[0] == namespace]:
                self.delete(rtype, ns, name)

    @staticmethod
    def _namespaced_types() -> Iterator[ResourceType]:
        seen: set[StorageKey] = set()
        for rtype in RESOURCE_TYPES:
            if rtype.namespaced and storage_key(rtype) not in seen:
                seen.add(storage_key(rtype))
                yield rtype
