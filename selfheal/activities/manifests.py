"""Edit a Deployment manifest the way a person would: change the patched lines, keep the rest.

Pure text in, text out, no I/O. The file is split into its YAML documents and only the
Deployment being fixed goes through ruamel.yaml's round-trip, so other documents stay
byte-identical; inside that document the line changes ruamel makes are replayed onto the
original text, so comments, quoting, key order and indentation around the fix survive even
where ruamel would have reformatted them.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import ScalarString

_SEPARATOR = re.compile(r"^(---|\.\.\.)(\s.*)?$")

# Strategic-merge keys of the list fields a fix may touch; other lists of maps merge by
# `name` when every patch item has one, and are replaced otherwise.
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "envFrom": "prefix",
    "volumes": "name",
    "imagePullSecrets": "name",
    "ports": "containerPort",
    "volumeMounts": "mountPath",
}


class ManifestEditError(ValueError):
    """The file cannot be edited: no such workload in it, or YAML that does not parse."""


@dataclass(frozen=True)
class _Document:
    start: int
    end: int
    text: str


def holds_workload(text: str, namespace: str, name: str, kind: str = "Deployment") -> bool:
    """Return True when `text` has a `kind` `name` in `namespace` (or with none set)."""
    return _find(_split(text), kind, namespace, name) is not None


def apply_patch(
    text: str,
    patch: Mapping[str, Any],
    *,
    namespace: str,
    name: str,
    kind: str = "Deployment",
) -> str:
    """Return `text` with the strategic-merge `patch` applied to the `kind` named `name`.

    Only the lines the patch changes differ from `text`; documents other than that
    workload's are left exactly as they were. Raises ManifestEditError when the file holds
    no such workload.
    """
    lines = text.splitlines(keepends=True)
    documents = _split(text)
    found = _find(documents, kind, namespace, name)
    if found is None:
        raise ManifestEditError(f"no {kind} {namespace}/{name} in this file")
    document = documents[found]
    edited = _edit_document(document.text, patch)
    return "".join(lines[: document.start]) + edited + "".join(lines[document.end :])


def unified_diff(path: str, before: str, after: str) -> str:
    """Return a `git diff`-style unified diff of one file; empty when nothing changed."""
    diff = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in diff)


def _split(text: str) -> list[_Document]:
    """Return the file's YAML documents as line ranges, separators excluded."""
    lines = text.splitlines(keepends=True)
    documents: list[_Document] = []
    start = 0
    for index, line in enumerate([*lines, "---\n"]):
        if _SEPARATOR.match(line.rstrip("\r\n")):
            if index > start:
                documents.append(_Document(start, index, "".join(lines[start:index])))
            start = index + 1
    return documents


def _find(documents: list[_Document], kind: str, namespace: str, name: str) -> int | None:
    for index, document in enumerate(documents):
        try:
            data = YAML(typ="safe", pure=True).load(document.text)
        except YAMLError:
            continue
        if not isinstance(data, dict) or data.get("kind") != kind:
            continue
        metadata = data.get("metadata") or {}
        if metadata.get("name") == name and metadata.get("namespace") in (None, namespace):
            return index
    return None


def _edit_document(text: str, patch: Mapping[str, Any]) -> str:
    yaml = _round_trip_yaml(text)
    try:
        baseline_data = yaml.load(text)
        patched_data = yaml.load(text)
    except YAMLError as exc:
        raise ManifestEditError(f"the workload's YAML does not parse: {exc}") from exc
    _merge(patched_data, patch)
    patched = _dump(yaml, patched_data)
    return _replay(text, _dump(yaml, baseline_data), patched) or patched


def _round_trip_yaml(text: str) -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.preserve_quotes = True
    yaml.width = 4096
    mapping, sequence, offset = _guess_indent(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _dump(yaml: YAML, data: Any) -> str:
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _guess_indent(text: str) -> tuple[int, int, int]:
    """Return (mapping indent, sequence indent, dash offset) as the file uses them."""
    mapping: int | None = None
    sequence: int | None = None
    offset: int | None = None
    previous: tuple[int, str] | None = None
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        dash = stripped.startswith("- ") or stripped == "-"
        if (
            previous is not None
            and previous[1].endswith(":")
            and (indent > previous[0] or (dash and indent == previous[0]))
        ):
            step = indent - previous[0]
            if dash:
                after_dash = len(stripped[1:]) - len(stripped[1:].lstrip(" "))
                offset = offset if offset is not None else step
                sequence = sequence if sequence is not None else step + 1 + max(after_dash, 1)
            elif mapping is None:
                mapping = step
        key_column = indent
        body = stripped
        while body.startswith("- "):
            key_column += 2 + (len(body[2:]) - len(body[2:].lstrip(" ")))
            body = body[2:].lstrip(" ")
        previous = (key_column, body.split("#")[0].rstrip())
    mapping = mapping or 2
    if sequence is None or offset is None:
        return mapping, mapping + 2, mapping
    return mapping, max(sequence, offset + 2), offset


def _merge(target: Any, patch: Mapping[str, Any]) -> None:
    """Apply a strategic-merge patch onto round-trip data in place."""
    for key, value in patch.items():
        if value is None:
            if key in target:
                del target[key]
            continue
        current = target.get(key)
        if isinstance(value, Mapping) and isinstance(current, CommentedMap):
            _merge(current, value)
        elif isinstance(value, list) and isinstance(current, CommentedSeq):
            _merge_list(current, value, _MERGE_KEYS.get(str(key), "name"))
        else:
            target[key] = _like(current, value)


def _merge_list(target: CommentedSeq, patch: list[Any], merge_key: str) -> None:
    if not all(isinstance(item, Mapping) and merge_key in item for item in patch):
        target[:] = patch
        return
    for item in patch:
        match = next(
            (
                existing
                for existing in target
                if isinstance(existing, CommentedMap) and existing.get(merge_key) == item[merge_key]
            ),
            None,
        )
        if match is None:
            target.append(_to_round_trip(item))
        else:
            _merge(match, item)


def _like(current: Any, value: Any) -> Any:
    """Return `value` written in the quoting style the old value used."""
    if isinstance(current, ScalarString) and isinstance(value, str):
        return type(current)(value)
    return _to_round_trip(value)


def _to_round_trip(value: Any) -> Any:
    if isinstance(value, Mapping):
        mapped = CommentedMap()
        for key, item in value.items():
            mapped[key] = _to_round_trip(item)
        return mapped
    if isinstance(value, list):
        return CommentedSeq(_to_round_trip(item) for item in value)
    return value


def _replay(original: str, baseline: str, patched: str) -> str | None:
    """Return `original` with the line edits that turn `baseline` into `patched`.

    `baseline` is ruamel's rendering of the unchanged document. Lines are aligned with
    whitespace ignored, so where ruamel normalised spacing or indentation the original is
    kept as written, and edited lines are shifted to the original's indentation. None when
    the edits cannot be placed on the original.
    """
    source = original.splitlines(keepends=True)
    base = baseline.splitlines(keepends=True)
    new = patched.splitlines(keepends=True)
    position: dict[int, int] = {}
    aligner = difflib.SequenceMatcher(
        None, [_shape(line) for line in source], [_shape(line) for line in base], autojunk=False
    )
    for block in aligner.get_matching_blocks():
        for step in range(block.size):
            position[block.b + step] = block.a + step
    edits: list[tuple[int, int, list[str]]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(
        None, base, new, autojunk=False
    ).get_opcodes():
        if tag == "equal":
            continue
        anchor = i1 if i1 < i2 else i1 - 1
        if anchor not in position:
            return None
        if i1 < i2:
            mapped = [position[i] for i in range(i1, i2) if i in position]
            if len(mapped) != i2 - i1 or mapped != list(range(mapped[0], mapped[0] + len(mapped))):
                return None
            start, stop = mapped[0], mapped[-1] + 1
        else:
            start = stop = position[anchor] + 1
        shift = _indent(source[position[anchor]]) - _indent(base[anchor])
        edits.append((start, stop, [_reindent(line, shift) for line in new[j1:j2]]))
    for start, stop, replacement in reversed(edits):
        source[start:stop] = replacement
    return "".join(source)


def _shape(line: str) -> str:
    return " ".join(line.split())


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _reindent(line: str, shift: int) -> str:
    if shift >= 0:
        return " " * shift + line
    return line[min(-shift, _indent(line)) :]
