"""A GitOps sync for the sandbox: applies each new commit on the manifest repo's main branch
to a Kubernetes API, as Flux or Argo CD would when it sees a change.

Only the manifests a new commit changed are applied (several commits that land between two
polls are applied as one change), through the official `kubernetes` client: created when
missing, replaced otherwise, so a changed pod template starts a rollout. Drift in the
cluster is not undone between commits, so direct-mode fixes stay until main changes that
object again. A deleted manifest leaves its objects in the cluster (no pruning).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import structlog
import urllib3
import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

log = structlog.get_logger(__name__)

CONFLICT_ATTEMPTS = 5
"""Read-and-replace rounds before a conflict (409) counts as the sync's error."""

# Objects others depend on go first, as Argo CD's sync waves order kinds.
_KIND_ORDER = {
    "Namespace": 0,
    "StorageClass": 0,
    "ServiceAccount": 1,
    "ConfigMap": 1,
    "Secret": 1,
    "Service": 2,
    "PersistentVolumeClaim": 2,
}


class ManifestSource(Protocol):
    """Where manifests come from: a branch's head commit and what changed between commits.

    `selfheal_lab.sandbox.github.history.History` (the GitHub stand-in's repository) is one.
    """

    def branch_head(self, branch: str) -> str | None: ...

    def changed_files(self, old: str | None, new: str) -> dict[str, bytes | None]: ...


@dataclass
class SyncResult:
    """What one sync applied: the revision, the objects written, and what failed."""

    revision: str
    applied: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def kube_client(*, url: str | None = None, kubeconfig: str | Path | None = None) -> k8s.ApiClient:
    """Return a kubernetes ApiClient for a kubeconfig file, or for a bare API URL."""
    if kubeconfig is not None:
        return k8s_config.new_client_from_config(config_file=str(kubeconfig))
    if url is None:
        raise ValueError("give a kubeconfig or an API url")
    configuration = k8s.Configuration(host=url)
    return k8s.ApiClient(configuration)


class GitOpsSync:
    """Watches `branch` of a manifest source and applies each new revision to the cluster.

    `synced_revision` is the revision the cluster already runs; None (the default) means
    nothing is synced yet, so the first sync applies every manifest, as Argo CD does for a
    new application.
    """

    def __init__(
        self,
        source: ManifestSource,
        api_client: k8s.ApiClient,
        *,
        branch: str = "main",
        path: str = "",
        default_namespace: str = "default",
        interval: float = 2.0,
        synced_revision: str | None = None,
    ) -> None:
        self.source = source
        self.api_client = api_client
        self.branch = branch
        self.path = path.strip("/")
        self.default_namespace = default_namespace
        self.interval = interval
        self.revision = synced_revision
        self.results: list[SyncResult] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def sync_once(self) -> SyncResult | None:
        """Apply what changed since the last synced revision; None when main has not moved.

        A revision whose manifests could not all be applied is not marked synced, so the
        next poll tries it again.
        """
        with self._lock:
            head = self.source.branch_head(self.branch)
            if head is None or head == self.revision:
                return None
            result = SyncResult(revision=head)
            documents: list[tuple[str, dict[str, Any]]] = []
            for path, content in self.source.changed_files(self.revision, head).items():
                if not self._watched(path):
                    continue
                if content is None:
                    log.info("manifest deleted; objects left in the cluster", path=path)
                    continue
                try:
                    documents += [(path, doc) for doc in _documents(content)]
                except yaml.YAMLError as exc:
                    result.errors.append(f"{path}: invalid YAML: {exc}")
            documents.sort(key=lambda item: _KIND_ORDER.get(str(item[1].get("kind")), 3))
            for path, manifest in documents:
                try:
                    result.applied.append(self._apply(manifest))
                except (ApiException, ValueError, urllib3.exceptions.HTTPError) as exc:
                    reason = exc.reason if isinstance(exc, ApiException) else str(exc)
                    result.errors.append(f"{path}: {_describe(manifest)}: {reason}")
            if result.ok:
                self.revision = head
            self.results.append(result)
            log.info(
                "gitops sync",
                revision=head[:12],
                applied=result.applied,
                errors=result.errors,
            )
            return result

    def start(self) -> None:
        """Poll the branch every `interval` seconds on a background thread."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="gitops-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and wait for the thread."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.sync_once()
            except Exception:  # the loop must outlive an unreachable API or source
                log.exception("gitops sync failed")
            self._stopping.wait(self.interval)

    def _watched(self, path: str) -> bool:
        inside = not self.path or path.startswith(self.path + "/")
        return inside and path.endswith((".yaml", ".yml"))

    def _apply(self, manifest: dict[str, Any]) -> str:
        """Create the object, or replace it keeping what the server manages; return its name."""
        api, suffix, namespaced = _api_for(self.api_client, manifest)
        meta = manifest.setdefault("metadata", {})
        name = meta.get("name")
        if not name:
            raise ValueError("metadata.name is missing")
        scope: dict[str, Any] = {}
        if namespaced:
            meta.setdefault("namespace", self.default_namespace)
            scope["namespace"] = meta["namespace"]
        prefix = "namespaced_" if namespaced else ""
        wanted = dict(meta.get("annotations") or {})
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                current = getattr(api, f"read_{prefix}{suffix}")(name, **scope)
            except ApiException as exc:
                if exc.status != 404:
                    raise
                getattr(api, f"create_{prefix}{suffix}")(body=manifest, **scope)
                return f"created {_describe(manifest)}"
            existing = self.api_client.sanitize_for_serialization(current).get("metadata") or {}
            meta["resourceVersion"] = existing.get("resourceVersion")
            # Keep annotations the server or controllers own (e.g. the deployment revision).
            meta["annotations"] = {**(existing.get("annotations") or {}), **wanted}
            try:
                getattr(api, f"replace_{prefix}{suffix}")(name, body=manifest, **scope)
            except ApiException as exc:
                # A controller wrote the object between the read and the replace: read again.
                if exc.status != 409 or attempt == CONFLICT_ATTEMPTS - 1:
                    raise
                continue
            break
        return f"applied {_describe(manifest)}"


def _documents(content: bytes) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for doc in yaml.safe_load_all(content):
        if not isinstance(doc, dict):
            continue
        if doc.get("kind") == "List":
            out.extend(item for item in doc.get("items") or [] if isinstance(item, dict))
        else:
            out.append(doc)
    return out


def _describe(manifest: dict[str, Any]) -> str:
    meta = manifest.get("metadata") or {}
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{manifest.get('kind')} {where}{meta.get('name')}"


def _api_for(api_client: k8s.ApiClient, manifest: dict[str, Any]) -> tuple[Any, str, bool]:
    """Return the typed client API for a manifest, its method suffix, and if it is namespaced."""
    api_version = str(manifest.get("apiVersion") or "")
    kind = str(manifest.get("kind") or "")
    if not api_version or not kind:
        raise ValueError("apiVersion and kind are required")
    group, _, version = api_version.rpartition("/")
    # apps/v1 -> AppsV1Api, rbac.authorization.k8s.io/v1 -> RbacAuthorizationV1Api, v1 -> CoreV1Api
    words = [w.capitalize() for w in re.split(r"[.\-]", group.removesuffix(".k8s.io")) if w]
    api_class = getattr(k8s, f"{''.join(words) or 'Core'}{version.capitalize()}Api", None)
    if api_class is None:
        raise ValueError(f"no client API for {api_version}")
    suffix = re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()
    api = api_class(api_client)
    if hasattr(api, f"read_namespaced_{suffix}"):
        return api, suffix, True
    if hasattr(api, f"read_{suffix}"):
        return api, suffix, False
    raise ValueError(f"{api_version} {kind} is not served by the kubernetes client")
