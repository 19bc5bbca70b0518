"""Which Kubernetes API permissions selfheal's activities need, read from their source code.

Every call of a `CoreV1Api`/`AppsV1Api`/... method in selfheal/activities/kubernetes/ is
mapped to the (apiGroup, resource, verb) RBAC checks it, from the request path and HTTP
method the official client itself sends.
"""

from __future__ import annotations

import ast
import inspect
import re
import typing
from dataclasses import dataclass
from pathlib import Path

import kubernetes.client

from selfheal.activities.kubernetes.client import ClusterConnection

Permission = tuple[str, str, str]
"""(apiGroup, resource[/subresource], verb), as RBAC rules spell them."""

_HTTP_VERB = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
_REQUEST = re.compile(r"method='(?P<method>[A-Z]+)',\s*resource_path='(?P<path>[^']+)'")
_API_PATH = re.compile(r"^/(?:api/v1|apis/(?P<group>[^/]+)/[^/]+)(?:/namespaces/\{namespace\})?/")


@dataclass(frozen=True)
class ApiCall:
    """One client method called somewhere in the activities (`api` None: receiver unknown)."""

    api: str | None
    method: str
    where: str


def api_class(name: str | None) -> type | None:
    """The kubernetes client's API class of that name (`CoreV1Api`), or None."""
    if not name or not name.endswith("Api") or not name[0].isupper():
        return None
    found = getattr(kubernetes.client, name, None)
    return found if isinstance(found, type) else None


def request_methods(cls: type) -> set[str]:
    """The request methods of an API class (`list_namespaced_pod`, ...)."""
    suffix = "_serialize"
    return {name[1 : -len(suffix)] for name in vars(cls) if name.endswith(suffix)}


def connection_accessors() -> dict[str, str]:
    """ClusterConnection methods that return an API class: `core` -> `CoreV1Api`, ..."""
    found = {}
    for name, member in inspect.getmembers(ClusterConnection, inspect.isfunction):
        returned = typing.get_type_hints(member).get("return")
        if isinstance(returned, type) and api_class(returned.__name__) is returned:
            found[name] = returned.__name__
    return found


def _receiver_api(node: ast.expr, accessors: dict[str, str]) -> str | None:
    """The API class a method is called on: `conn.core()`, `CoreV1Api(client)`, ..."""
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in accessors:
            return accessors[name]
        if api_class(name) is not None:
            return name
    return None


def api_calls(package: Path) -> list[ApiCall]:
    """Every call of an API method in the package's modules, resolved to its API class.

    A call whose receiver cannot be resolved (`api = conn.core(); api.read_...()`) is
    returned with `api` None, so a scan cannot silently miss it.
    """
    accessors = connection_accessors()
    # Names of the APIs the connection hands out, to catch calls on a receiver held in a
    # variable, which the scan cannot resolve.
    methods = set().union(*(request_methods(api_class(a) or object) for a in accessors.values()))
    calls = []
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                api = _receiver_api(node.func.value, accessors)
                if api is not None or node.func.attr in methods:
                    calls.append(ApiCall(api, node.func.attr, f"{path.name}:{node.lineno}"))
    return calls


def permission_of(call: ApiCall) -> Permission:
    """The RBAC permission the apiserver checks for this call."""
    if call.api is None:
        raise LookupError(f"{call.method} at {call.where}: call it on conn.core()/conn.apps()")
    cls = api_class(call.api)
    serializer = getattr(cls, f"_{call.method}_serialize", None)
    if serializer is None:
        raise LookupError(f"{call.api}.{call.method} ({call.where}) is not an API request")
    request = _REQUEST.search(inspect.getsource(serializer))
    if request is None:
        raise LookupError(f"cannot read the request of {call.api}.{call.method}")
    path, method = request["path"], request["method"]
    prefix = _API_PATH.match(path)
    assert prefix is not None, path
    segments = [part for part in path[prefix.end() :].split("/") if not part.startswith("{")]
    resource = "/".join(segments)
    verb = _HTTP_VERB.get(method) or ("get" if "{name}" in path else "list")
    return (prefix["group"] or "", resource, verb)


def needed_permissions(package: Path) -> dict[Permission, list[str]]:
    """Each permission the package's calls need, with where they are made."""
    needed: dict[Permission, list[str]] = {}
    for call in api_calls(package):
        needed.setdefault(permission_of(call), []).append(f"{call.method} at {call.where}")
    return needed
