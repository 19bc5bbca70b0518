"""The three patch formats the apiserver accepts: JSON patch, merge patch, strategic merge patch."""

from __future__ import annotations

import copy
from typing import Any

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

# Lists the Kubernetes types declare with patchStrategy=merge, and the key their items merge on.
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
}


class PatchError(ValueError):
    """A patch the apiserver would refuse (422 for JSON patch test failures, 400 otherwise)."""


def merge_patch(original: Any, patch: Any) -> Any:
    """Return `original` with an RFC 7386 merge patch applied (lists are replaced whole)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(original) if isinstance(original, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _strip_directives(v)
            for k, v in value.items()
            if not k.startswith("$") and v is not None
        }
    if isinstance(value, list):
        return [_strip_directives(v) for v in value if not _is_delete_directive(v)]
    return value


def _is_delete_directive(item: Any) -> bool:
    return isinstance(item, dict) and item.get("$patch") == "delete"


def _merge_keyed_list(original: list[Any], patch: list[Any], key: str) -> list[Any]:
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [_strip_directives(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    result = [copy.deepcopy(i) for i in original]
    for item in patch:
        if not isinstance(item, dict):
            result.append(item)
            continue
        index = next(
            (
                n
                for n, existing in enumerate(result)
                if isinstance(existing, dict) and existing.get(key) == item.get(key)
            ),
            None,
        )
        if _is_delete_directive(item):
            if index is not None:
                result.pop(index)
        elif index is None:
            result.append(_strip_directives(item))
        else:
            result[index] = strategic_merge_patch(result[index], item)
    return result


def strategic_merge_patch(original: Any, patch: Any) -> Any:
    """Return `original` with a strategic merge patch applied.

    Lists of containers, env, volumes and the other patchStrategy=merge lists are merged by
    their key; `$patch: delete` removes an item or map, `$patch: replace` replaces a map,
    `$deleteFromPrimitiveList/<field>` removes scalars; other lists are replaced whole.
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip_directives(patch)
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in result.get(field) or [] if v not in value]
            continue
        if key.startswith("$"):
            continue
        current = result.get(key)
        if value is None or _is_delete_directive(value):
            result.pop(key, None)
        elif isinstance(value, dict):
            result[key] = strategic_merge_patch(current, value)
        elif isinstance(value, list) and key in MERGE_KEYS and isinstance(current, list):
            result[key] = _merge_keyed_list(current, value, MERGE_KEYS[key])
        elif isinstance(value, list) and key == "finalizers" and isinstance(current, list):
            result[key] = current + [v for v in value if v not in current]
        else:
            result[key] = _strip_directives(value)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str]) -> Any:
    current = doc
    for part in parts[:-1]:
        try:
            current = current[int(part)] if isinstance(current, list) else current[part]
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise PatchError(f"path /{'/'.join(parts)} does not exist") from exc
    return current


def _get(doc: Any, parts: list[str]) -> Any:
    if not parts:
        return doc
    parent = _parent(doc, parts)
    try:
        return parent[int(parts[-1])] if isinstance(parent, list) else parent[parts[-1]]
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise PatchError(f"path /{'/'.join(parts)} does not exist") from exc


def _remove(doc: Any, parts: list[str]) -> Any:
    parent = _parent(doc, parts)
    try:
        if isinstance(parent, list):
            return parent.pop(int(parts[-1]))
        return parent.pop(parts[-1])
    except (KeyError, IndexError, ValueError) as exc:
        raise PatchError(f"path /{'/'.join(parts)} does not exist") from exc


def _add(doc: Any, parts: list[str], value: Any, replace: bool) -> Any:
    if not parts:
        return value
    parent = _parent(doc, parts)
    last = parts[-1]
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
            return doc
        try:
            index = int(last)
        except ValueError as exc:
            raise PatchError(f"invalid list index {last!r}") from exc
        if replace:
            if index >= len(parent):
                raise PatchError(f"path /{'/'.join(parts)} does not exist")
            parent[index] = value
        else:
            if index > len(parent):
                raise PatchError(f"index {index} out of range")
            parent.insert(index, value)
    elif isinstance(parent, dict):
        if replace and last not in parent:
            raise PatchError(f"path /{'/'.join(parts)} does not exist")
        parent[last] = value
    else:
        raise PatchError(f"path /{'/'.join(parts)} does not exist")
    return doc


def json_patch(original: Any, operations: list[dict[str, Any]]) -> Any:
    """Return `original` with RFC 6902 operations applied; PatchError on a bad path or test."""
    doc = copy.deepcopy(original)
    if not isinstance(operations, list):
        raise PatchError("a JSON patch must be a list of operations")
    for operation in operations:
        op, parts = operation.get("op"), _pointer(operation.get("path", ""))
        if op in ("add", "replace"):
            doc = _add(doc, parts, copy.deepcopy(operation.get("value")), op == "replace")
        elif op == "remove":
            _remove(doc, parts)
        elif op in ("move", "copy"):
            source = _pointer(operation.get("from", ""))
            value = _remove(doc, source) if op == "move" else copy.deepcopy(_get(doc, source))
            doc = _add(doc, parts, value, replace=False)
        elif op == "test":
            if _get(doc, parts) != operation.get("value"):
                raise PatchError(f"test failed at {operation.get('path')}")
        else:
            raise PatchError(f"unknown JSON patch operation {op!r}")
    return doc


def apply_patch(original: dict[str, Any], patch: Any, content_type: str) -> dict[str, Any]:
    """Return `original` patched according to the request's Content-Type."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == JSON_PATCH:
        result = json_patch(original, patch)
    elif kind == MERGE_PATCH:
        result = merge_patch(original, patch)
    elif kind in (STRATEGIC_MERGE_PATCH, APPLY_PATCH):
        result = strategic_merge_patch(original, patch)
    else:
        raise PatchError(f"the body of the request was in an unknown format: {kind}")
    if not isinstance(result, dict):
        raise PatchError("a patch must leave an object")
    return result
