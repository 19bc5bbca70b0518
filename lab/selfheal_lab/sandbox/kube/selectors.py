"""Label and field selectors, parsed from query strings as the apiserver reads them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Matcher = Callable[[Mapping[str, Any]], bool]

_SET_RE = re.compile(r"^\s*(!?)([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ_RE = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([A-Za-z0-9_./-]*)\s*$")
_EXISTS_RE = re.compile(r"^\s*(!?)([A-Za-z0-9_./-]+)\s*$")


class SelectorError(ValueError):
    """A selector string the apiserver would reject with 400."""


def _split_requirements(text: str) -> list[str]:
    """Split on commas that are not inside a parenthesised value set."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def _label_requirement(text: str) -> Callable[[Mapping[str, str]], bool]:
    if match := _SET_RE.match(text):
        _, key, op, raw = match.groups()
        values = {v.strip() for v in raw.split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if match := _EQ_RE.match(text):
        key, op, value = match.groups()
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if match := _EXISTS_RE.match(text):
        negate, key = match.groups()
        if negate:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise SelectorError(f"unable to parse requirement: {text.strip()!r}")


def label_matcher(selector: str | None) -> Matcher:
    """Return a predicate on objects for a label selector such as `app=x,tier in (a,b),!old`."""
    if not selector:
        return lambda _obj: True
    requirements = [_label_requirement(r) for r in _split_requirements(selector)]

    def matches(obj: Mapping[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(req(labels) for req in requirements)

    return matches


def labels_match_selector(labels: Mapping[str, str], selector: Mapping[str, Any]) -> bool:
    """Return whether labels satisfy a LabelSelector object (matchLabels + matchExpressions)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], set(expr.get("values") or [])
        present = key in labels
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """Return the string a field selector compares for a dotted path ('' when absent)."""
    current: Any = obj
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return ""
        current = current.get(part)
    return "" if current is None else str(current)


def field_matcher(selector: str | None) -> Matcher:
    """Return a predicate for a field selector such as `metadata.name=x,status.phase!=Running`."""
    if not selector:
        return lambda _obj: True
    checks: list[tuple[str, bool, str]] = []
    for requirement in _split_requirements(selector):
        if "!=" in requirement:
            path, value = requirement.split("!=", 1)
            checks.append((path.strip(), False, value.strip()))
        elif "=" in requirement:
            path, value = requirement.replace("==", "=").split("=", 1)
            checks.append((path.strip(), True, value.strip()))
        else:
            raise SelectorError(f"invalid field selector: {requirement!r}")

    def matches(obj: Mapping[str, Any]) -> bool:
        return all((field_value(obj, path) == value) == equal for path, equal, value in checks)

    return matches
