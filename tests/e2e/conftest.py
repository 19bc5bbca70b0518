"""Fixtures of the e2e tests beyond the shared `sandbox_stack` (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.stack import RunningStack, start_stack


@pytest.fixture(scope="session")
def private_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A second whole stack for tests that stop or restart its processes.

    Each test using it leaves every part running again (`start_missing`) and its incidents
    ended, so the next one starts from a working stack without paying for a new one.
    """
    running = start_stack(tmp_path_factory.mktemp("private-stack"))
    yield running
    running.stack.down()
