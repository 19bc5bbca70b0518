"""Kubernetes resource quantities ("180Mi", "1Gi", "250m", "0.5") as numbers."""

from __future__ import annotations

import re

_SUFFIXES = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
    "n": 10**-9,
    "u": 10**-6,
    "m": 10**-3,
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
}
_QUANTITY_RE = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([A-Za-z]*)$")


def parse_quantity(value: str | int | float) -> float:
    """Return a quantity in base units (bytes or cores); ValueError if malformed."""
    if isinstance(value, int | float):
        return float(value)
    match = _QUANTITY_RE.match(value.strip())
    if not match or match.group(2) not in _SUFFIXES:
        raise ValueError(f"quantities must match the regular expression: {value!r}")
    return float(match.group(1)) * _SUFFIXES[match.group(2)]


def memory_mib(value: str | int | float) -> float:
    """Return a memory quantity in MiB."""
    return parse_quantity(value) / 2**20


def cpu_millis(value: str | int | float) -> float:
    """Return a CPU quantity in millicores."""
    return parse_quantity(value) * 1000
