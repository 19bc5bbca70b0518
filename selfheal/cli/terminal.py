"""How a `selfheal` command talks to the terminal and ends: 0 done, 1 refused, 2 usage.

The product's commands and those an installed distribution adds (the lab's `up`, `demo`, …)
share these, so every command refuses and exits the same way.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

from pydantic import ValidationError
from rich.console import Console
from temporalio.service import RPCError

from selfheal.client.decisions import Refused
from selfheal.settings import Settings

out = Console()
err = Console(stderr=True)

T = TypeVar("T")
S = TypeVar("S", bound=Settings)


def finish(code: int = 0) -> NoReturn:
    """Flush and leave at once: the SDK can crash at interpreter exit (sdk-python#300)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def refuse(message: str) -> NoReturn:
    """Say why the command refused, on stderr, and exit 1."""
    err.print(f"[red]refused:[/] {message}", markup=True, highlight=False)
    finish(1)


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run async work; turn refusals and an unreachable Temporal into exit code 1."""
    try:
        return asyncio.run(work())  # type: ignore[arg-type]
    except Refused as refusal:
        refuse(str(refusal))
    except RPCError as rpc:
        refuse(f"Temporal answered {rpc.status.name if rpc.status else 'an error'}: {rpc}")
    except RuntimeError as failure:
        if "connect" in str(failure).lower():
            refuse(f"cannot reach Temporal: {failure}")
        raise


def settings_or_exit(read: Callable[[], S]) -> S:
    """The settings `read` gives (e.g. `load_settings`); on an invalid one, say which, exit 2."""
    try:
        return read()
    except ValidationError as invalid:
        err.print(f"invalid configuration:\n{invalid}", markup=False)
        finish(2)
