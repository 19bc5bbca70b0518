"""Fixtures: a JIRA sandbox served over HTTP and an atlassian-python-api client for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from atlassian import Jira
from requests import HTTPError

from selfheal_lab.sandbox.jira import JiraSandbox


@pytest.fixture
def sandbox() -> Iterator[JiraSandbox]:
    with JiraSandbox(project="OPS") as jira:
        yield jira


@pytest.fixture
def jira(sandbox: JiraSandbox) -> Jira:
    return Jira(url=sandbox.url, username="selfheal", password="api-token", timeout=5)


def status(raised: pytest.ExceptionInfo[HTTPError]) -> int:
    """Return the HTTP status of the response an HTTPError carries."""
    assert raised.value.response is not None
    return raised.value.response.status_code


def body(raised: pytest.ExceptionInfo[HTTPError]) -> dict[str, Any]:
    """Return the JSON body of the response an HTTPError carries."""
    assert raised.value.response is not None
    payload: dict[str, Any] = raised.value.response.json()
    return payload


def answer(response: object) -> dict[str, Any]:
    """Return a client call's JSON object (the client types its answers as possibly None)."""
    assert isinstance(response, dict)
    return response
