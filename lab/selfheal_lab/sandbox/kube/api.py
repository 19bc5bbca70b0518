"""The HTTP face of the Kubernetes stand-in: discovery, CRUD, patch, watch, logs, scale."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from selfheal_lab.sandbox.kube import defaults, resources
from selfheal_lab.sandbox.kube.apps import APP_FAULTS_PATH, AppFault
from selfheal_lab.sandbox.kube.errors import ApiError
from selfheal_lab.sandbox.kube.events import from_events_v1, to_events_v1
from selfheal_lab.sandbox.kube.exposition import CONTENT_TYPE
from selfheal_lab.sandbox.kube.metrics import SOURCES, ClusterMetrics
from selfheal_lab.sandbox.kube.node_failures import set_failure
from selfheal_lab.sandbox.kube.patching import APPLY_PATCH, PatchError, apply_patch
from selfheal_lab.sandbox.kube.pod_security import admit_pod
from selfheal_lab.sandbox.kube.resources import ResourceType
from selfheal_lab.sandbox.kube.selectors import SelectorError, field_matcher, label_matcher
from selfheal_lab.sandbox.kube.snapshot import load_objects
from selfheal_lab.sandbox.kube.storage import admit_claim
from selfheal_lab.sandbox.kube.store import Obj, Store, WatchEvent, random_suffix
from selfheal_lab.sandbox.kube.tables import as_table
from selfheal_lab.sandbox.kube.validation import validate

DEFAULT_WATCH_SECONDS = 1800
SCALABLE = ("Deployment", "ReplicaSet", "StatefulSet")
# Kinds whose DELETE answers the object itself rather than a Status, as the API server's
# registries do (the typed clients decode these answers as the object).
RETURNS_DELETED = (
    "Pod",
    "PersistentVolumeClaim",
    "PersistentVolume",
    "ResourceQuota",
    "Service",
    "ServiceAccount",
    "StorageClass",
)
PROTOBUF = "application/vnd.kubernetes.protobuf"
UNSUPPORTED_MEDIA = (
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json, application/yaml"
)


@dataclass(frozen=True)
class Target:
    """What a request path names: a type, maybe a namespace, maybe an object and subresource."""

    rtype: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None


def parse_path(path: str) -> Target | None:
    """Return the resource a request path addresses, or None when the path names nothing."""
    parts = [p for p in path.strip("/").split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces" and resources.find_type(group, version, rest[2]):
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        return None
    rtype = resources.find_type(group, version, rest[0])
    if rtype is None:
        return None
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    return Target(rtype, namespace, name, sub)


def _error(exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.status(), status_code=exc.code)


def _wants_table(request: Request) -> bool:
    return "as=Table" in request.headers.get("accept", "")


async def _body(request: Request) -> Any:
    if request.headers.get("content-type", "").startswith(PROTOBUF):
        raise ApiError(415, "UnsupportedMediaType", UNSUPPORTED_MEDIA)
    raw = await request.body()
    if not raw:
        raise ApiError.bad_request("the request body is empty")
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        try:
            return yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise ApiError.bad_request(f"error decoding the request body: {exc}") from exc


def _outward(rtype: ResourceType, obj: Obj) -> Obj:
    """Present a stored object through the API version the request used."""
    if rtype.group == "events.k8s.io":
        return to_events_v1(obj)
    return obj


def _inward(rtype: ResourceType, obj: Obj) -> Obj:
    obj = defaults.without_nulls(obj)
    if rtype.group == "events.k8s.io":
        return from_events_v1(obj)
    # Clients may leave out the type (the Python client's dict bodies); defaulting needs it.
    obj.setdefault("apiVersion", rtype.group_version)
    obj.setdefault("kind", rtype.kind)
    return obj


def _admit_pod(store: Store, namespace: str, pod: Obj) -> None:
    """Run Pod Security admission on a pod about to be created; the API server names a
    generateName pod before admission, so the refusal can name it."""
    meta = pod.setdefault("metadata", {})
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = meta["generateName"] + random_suffix()
    if not meta.get("name"):
        return  # the store refuses it: name or generateName is required
    meta["namespace"] = namespace or meta.get("namespace") or "default"
    admit_pod(store, pod)


def _status_ok(rtype: ResourceType, obj: Obj) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {
            "name": obj["metadata"]["name"],
            "group": rtype.group,
            "kind": rtype.plural,
            "uid": obj["metadata"].get("uid"),
        },
    }


def _scale_view(rtype: ResourceType, obj: Obj) -> Obj:
    meta = obj["metadata"]
    selector = (obj.get("spec") or {}).get("selector") or {}
    labels = selector.get("matchLabels") or {}
    return {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in labels.items()),
        },
    }


class KubeApi:
    """Request handling over a Store; `app` is the ASGI application."""

    def __init__(self, store: Store, metrics: ClusterMetrics | None = None) -> None:
        self.store = store
        self.metrics = metrics
        self.app = Starlette(
            routes=[
                Route("/metrics", self._metrics),
                Route("/metrics/{source}", self._metrics),
                Route("/version", self._version),
                Route("/api", self._core_versions),
                Route("/apis", self._groups),
                Route("/healthz", self._ok),
                Route("/livez", self._ok),
                Route("/readyz", self._ok),
                Route(
                    "/sandbox/v1/namespaces/{namespace}/pods/{name}/log",
                    self._put_log,
                    methods=["PUT"],
                ),
                Route("/sandbox/v1/objects", self._load_objects, methods=["POST"]),
                Route(APP_FAULTS_PATH, self._app_faults, methods=["GET", "PUT", "DELETE"]),
                Route(
                    "/sandbox/v1/nodes/{name}/failure",
                    self._node_failure,
                    methods=["PUT", "DELETE"],
                ),
                Route(
                    "/{path:path}",
                    self._dispatch,
                    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                ),
            ]
        )

    # ---- discovery ---------------------------------------------------------------------

    async def _version(self, request: Request) -> Response:
        return JSONResponse(resources.SERVER_VERSION)

    async def _core_versions(self, request: Request) -> Response:
        return JSONResponse(resources.core_versions())

    async def _groups(self, request: Request) -> Response:
        return JSONResponse(resources.group_list())

    async def _ok(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def _metrics(self, request: Request) -> Response:
        source = request.path_params.get("source", "")
        if self.metrics is None or (source and source not in SOURCES):
            return PlainTextResponse("404 page not found", status_code=404)
        return PlainTextResponse(self.metrics.exposition(source), media_type=CONTENT_TYPE)

    def _discovery(self, path: str) -> Response | None:
        parts = [p for p in path.strip("/").split("/") if p]
        if parts == ["api", "v1"]:
            return JSONResponse(resources.resource_list("", "v1"))
        if len(parts) == 2 and parts[0] == "apis":
            document = resources.group_document(parts[1])
            if document["versions"]:
                return JSONResponse(document)
        if len(parts) == 3 and parts[0] == "apis":
            listing = resources.resource_list(parts[1], parts[2])
            if listing is not None:
                return JSONResponse(listing)
        return None

    # ---- sandbox-only: logs for loaded snapshots ---------------------------------------

    async def _put_log(self, request: Request) -> Response:
        namespace = request.path_params["namespace"]
        name = request.path_params["name"]
        container = request.query_params.get("container", "")
        previous = request.query_params.get("previous", "false") == "true"
        text = (await request.body()).decode()
        try:
            self.store.get(resources.PODS, namespace, name)
        except ApiError as exc:
            return _error(exc)
        self.store.set_log(namespace, name, container, text, previous)
        return PlainTextResponse("", status_code=204)

    async def _node_failure(self, request: Request) -> Response:
        """Simulate a node's failure (PUT {"failure": ...}) or heal it (DELETE)."""
        failure: str | None = None
        try:
            if request.method == "PUT":
                body = await _body(request)
                failure = str(body.get("failure", "")) if isinstance(body, dict) else ""
            node = set_failure(self.store, request.path_params["name"], failure)
        except ApiError as exc:
            return _error(exc)
        return JSONResponse(node)

    async def _app_faults(self, request: Request) -> Response:
        """List (GET), set (PUT an AppFault) or clear (DELETE ?namespace=&workload=) the
        demo apps' error faults (apps.py)."""
        if self.metrics is None:
            return PlainTextResponse("404 page not found", status_code=404)
        faults = self.metrics.app_faults
        if request.method == "PUT":
            try:
                faults.set(AppFault.model_validate_json(await request.body()))
            except ValidationError as invalid:
                problems = [
                    {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
                    for e in invalid.errors()
                ]
                message = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
                return JSONResponse({"message": message, "errors": problems}, status_code=422)
        elif request.method == "DELETE":
            query = request.query_params
            faults.clear(query.get("namespace"), query.get("workload"))
        return JSONResponse({"faults": [f.model_dump() for f in faults.listing()]})

    async def _load_objects(self, request: Request) -> Response:
        try:
            body = await _body(request)
        except ApiError as exc:
            return _error(exc)
        loaded = load_objects(self.store, list(body.get("items") or []))
        return JSONResponse({"objects": loaded.objects, "skipped": loaded.skipped})

    # ---- resources ---------------------------------------------------------------------

    async def _dispatch(self, request: Request) -> Response:
        path = "/" + request.path_params["path"]
        if request.method == "GET":
            found = self._discovery(path)
            if found is not None:
                return found
        target = parse_path(path)
        if target is None:
            return JSONResponse(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Failure",
                    "message": "the server could not find the requested resource",
                    "reason": "NotFound",
                    "details": {},
                    "code": 404,
                },
                status_code=404,
            )
        try:
            return await self._handle(request, target)
        except ApiError as exc:
            return _error(exc)
        except (PatchError, SelectorError, ValueError) as exc:
            return _error(ApiError.bad_request(str(exc)))

    async def _handle(self, request: Request, target: Target) -> Response:
        method, rtype = request.method, target.rtype
        namespace = target.namespace or ""
        if target.name is None:
            if method == "GET":
                if request.query_params.get("watch") in ("true", "1"):
                    return self._watch(request, target)
                return self._list(request, target)
            if method == "POST":
                return self._create(rtype, namespace, await _body(request), request)
            if method == "DELETE":
                return self._delete_collection(request, target)
            raise ApiError(405, "MethodNotAllowed", f"{method} is not supported here")
        name = target.name
        if target.subresource == "log" and rtype.kind == "Pod" and method == "GET":
            return self._log(request, namespace, name)
        if target.subresource == "scale" and rtype.kind in SCALABLE:
            return await self._scale(request, rtype, namespace, name)
        if target.subresource == "eviction" and rtype.kind == "Pod" and method == "POST":
            return self._evict(namespace, name)
        if target.subresource not in (None, "status"):
            raise ApiError.not_found(rtype, name)
        if method == "GET":
            obj = _outward(rtype, self.store.get(rtype, namespace, name))
            if _wants_table(request) and target.subresource is None:
                version = obj["metadata"].get("resourceVersion", "")
                include = request.query_params.get("includeObject", "Metadata")
                return JSONResponse(as_table(rtype.kind, [obj], version, include))
            return JSONResponse(obj)
        if method == "PUT":
            obj = _inward(rtype, await _body(request))
            defaults.apply_defaults(obj)
            if target.subresource is None:
                validate(rtype, obj)
            stored = self.store.replace(rtype, namespace, name, obj, target.subresource)
            return JSONResponse(_outward(rtype, stored))
        if method == "PATCH":
            return await self._patch(request, target, namespace, name)
        if method == "DELETE":
            deleted = self.store.delete(rtype, namespace, name)
            if rtype.kind in RETURNS_DELETED:
                return JSONResponse(deleted)
            return JSONResponse(_status_ok(rtype, deleted))
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported here")

    def _evict(self, namespace: str, name: str) -> Response:
        """The Eviction API: the pod goes as a delete would (the sandbox keeps no
        PodDisruptionBudgets to refuse it), answered 201 with a Success Status."""
        self.store.delete(resources.PODS, namespace, name)
        return JSONResponse(
            {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"},
            status_code=201,
        )

    def _list(self, request: Request, target: Target) -> Response:
        rtype = target.rtype
        matcher = self._matcher(request)
        items, version = self.store.list(rtype, target.namespace, matcher)
        items = [_outward(rtype, i) for i in items]
        if _wants_table(request):
            include = request.query_params.get("includeObject", "Metadata")
            return JSONResponse(as_table(rtype.kind, items, str(version), include))
        return JSONResponse(
            {
                "kind": f"{rtype.kind}List",
                "apiVersion": rtype.group_version,
                "metadata": {"resourceVersion": str(version)},
                "items": items,
            }
        )

    @staticmethod
    def _matcher(request: Request) -> Any:
        labels = label_matcher(request.query_params.get("labelSelector"))
        fields = field_matcher(request.query_params.get("fieldSelector"))
        return lambda obj: labels(obj) and fields(obj)

    def _create(self, rtype: ResourceType, namespace: str, body: Any, request: Request) -> Response:
        if not isinstance(body, dict):
            raise ApiError.bad_request("the request body must be an object")
        obj = _inward(rtype, body)
        defaults.apply_defaults(obj)
        if rtype.kind == "PersistentVolumeClaim":
            admit_claim(self.store, obj)
        validate(rtype, obj)
        if rtype is resources.PODS:
            _admit_pod(self.store, namespace, obj)
        if request.query_params.get("dryRun") == "All":
            return JSONResponse(_outward(rtype, obj), status_code=201)
        created = self.store.create(rtype, namespace, obj)
        return JSONResponse(_outward(rtype, created), status_code=201)

    def _delete_collection(self, request: Request, target: Target) -> Response:
        items, _ = self.store.list(target.rtype, target.namespace, self._matcher(request))
        for item in items:
            with contextlib.suppress(ApiError):
                self.store.delete(
                    target.rtype, item["metadata"].get("namespace", ""), item["metadata"]["name"]
                )
        return JSONResponse(
            {
                "kind": f"{target.rtype.kind}List",
                "apiVersion": target.rtype.group_version,
                "metadata": {},
                "items": [_outward(target.rtype, i) for i in items],
            }
        )

    async def _patch(self, request: Request, target: Target, namespace: str, name: str) -> Response:
        rtype = target.rtype
        body = await _body(request)
        content_type = request.headers.get("content-type", "")
        current_obj = self.store.find(rtype, namespace, name)
        if current_obj is None:
            if content_type.startswith(APPLY_PATCH) and isinstance(body, dict):
                return self._create(rtype, namespace, body, request)  # apply creates
            raise ApiError.not_found(rtype, name)
        current = _outward(rtype, current_obj)
        patched = apply_patch(current, body, content_type)
        obj = _inward(rtype, patched)
        defaults.apply_defaults(obj)
        if target.subresource is None:
            validate(rtype, obj)
        if request.query_params.get("dryRun") == "All":
            return JSONResponse(_outward(rtype, obj))
        obj.setdefault("metadata", {}).pop("resourceVersion", None)
        stored = self.store.replace(rtype, namespace, name, obj, target.subresource)
        return JSONResponse(_outward(rtype, stored))

    async def _scale(
        self, request: Request, rtype: ResourceType, namespace: str, name: str
    ) -> Response:
        current = self.store.get(rtype, namespace, name)
        if request.method == "GET":
            return JSONResponse(_scale_view(rtype, current))
        body = await _body(request)
        if request.method == "PATCH":
            scale = apply_patch(
                _scale_view(rtype, current), body, request.headers.get("content-type", "")
            )
        elif request.method == "PUT":
            scale = body
        else:
            raise ApiError(405, "MethodNotAllowed", f"{request.method} is not supported here")
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise ApiError.invalid(
                rtype, name, "spec.replicas", f"Invalid value: {replicas}: must be >= 0"
            )

        def resize(obj: Obj) -> None:
            obj["spec"]["replicas"] = replicas

        stored = self.store.mutate(rtype, namespace, name, resize)
        if stored is None:
            raise ApiError.not_found(rtype, name)
        return JSONResponse(_scale_view(rtype, stored))

    # ---- logs --------------------------------------------------------------------------

    def _log(self, request: Request, namespace: str, name: str) -> Response:
        pod = self.store.get(resources.PODS, namespace, name)
        containers = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
        container = request.query_params.get("container")
        if not container:
            if len(containers) != 1:
                raise ApiError.bad_request(
                    f"a container name must be specified for pod {name}, choose one of: "
                    f"[{' '.join(containers)}]"
                )
            container = containers[0]
        if container not in containers:
            raise ApiError.bad_request(f"container {container} is not valid for pod {name}")
        previous = request.query_params.get("previous") in ("true", "1")
        text = self.store.get_log(namespace, name, container, previous)
        if text is None:
            text = self._missing_log(pod, container, previous)
        tail = request.query_params.get("tailLines")
        if tail is not None:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-int(tail) :]) if int(tail) > 0 else ""
        limit = request.query_params.get("limitBytes")
        if limit is not None:
            text = text[: int(limit)]
        return PlainTextResponse(text)

    def _missing_log(self, pod: Obj, container: str, previous: bool) -> str:
        name = pod["metadata"]["name"]
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        status: dict[str, Any] = next((s for s in statuses if s.get("name") == container), {})
        if previous:
            raise ApiError.bad_request(
                f'previous terminated container "{container}" in pod "{name}" not found'
            )
        waiting = (status.get("state") or {}).get("waiting")
        static = (pod["metadata"].get("annotations") or {}).get("sandbox.selfheal.dev/static")
        if waiting and static != "true":
            reason = waiting.get("reason", "ContainerCreating")
            if reason in ("ErrImagePull", "ImagePullBackOff"):
                reason = "trying and failing to pull image"
            raise ApiError.bad_request(
                f'container "{container}" in pod "{name}" is waiting to start: {reason}'
            )
        return ""

    # ---- watch -------------------------------------------------------------------------

    def _watch(self, request: Request, target: Target) -> Response:
        rtype = target.rtype
        matcher = self._matcher(request)
        raw_version = request.query_params.get("resourceVersion")
        since = int(raw_version) if raw_version and raw_version != "0" else None
        timeout = float(request.query_params.get("timeoutSeconds") or DEFAULT_WATCH_SECONDS)
        table = _wants_table(request)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[WatchEvent] = asyncio.Queue()

        def deliver(event: WatchEvent) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, event)

        watcher = self.store.watch(rtype, target.namespace, matcher, deliver, since)

        def encode(event: WatchEvent) -> bytes:
            obj = _outward(rtype, event.object)
            if table:
                obj = as_table(rtype.kind, [obj], str(event.resource_version))
            return (json.dumps({"type": event.type, "object": obj}) + "\n").encode()

        async def stream() -> Any:
            deadline = time.monotonic() + timeout
            try:
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return
                    try:
                        event = await asyncio.wait_for(queue.get(), timeout=min(remaining, 1.0))
                    except TimeoutError:
                        if await request.is_disconnected():
                            return
                        continue
                    yield encode(event)
            finally:
                self.store.unwatch(watcher)

        return StreamingResponse(stream(), media_type="application/json")


def build_app(store: Store, metrics: ClusterMetrics | None = None) -> Starlette:
    """Return the ASGI app serving `store` as a Kubernetes API (and `metrics` on /metrics)."""
    return KubeApi(store, metrics).app
