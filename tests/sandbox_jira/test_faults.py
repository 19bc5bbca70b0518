"""Fault injection on the JIRA stand-in: errors a client sees and recovers from."""

from __future__ import annotations

import pytest
from atlassian import Jira
from requests import HTTPError

from selfheal_lab.sandbox.jira import JiraSandbox
from tests.sandbox_jira.conftest import answer, status


def test_503_then_recovery(sandbox: JiraSandbox, jira: Jira) -> None:
    sandbox.faults.set(status=503)
    with pytest.raises(HTTPError) as unavailable:
        jira.myself()
    assert status(unavailable) == 503
    sandbox.faults.clear()
    assert answer(jira.myself())["name"] == "selfheal"


def test_403_only_on_writes(sandbox: JiraSandbox, jira: Jira) -> None:
    sandbox.faults.set(status=403, methods={"POST"})
    with pytest.raises(HTTPError) as forbidden:
        jira.issue_create(
            fields={"project": {"key": "OPS"}, "summary": "x", "issuetype": {"name": "Task"}}
        )
    assert status(forbidden) == 403
    assert "permission" in str(forbidden.value)
    assert answer(jira.get_server_info())["version"]
    assert sandbox.issues() == []


def test_unauthenticated_requests_are_refused(sandbox: JiraSandbox) -> None:
    anonymous = Jira(url=sandbox.url)
    with pytest.raises(HTTPError) as refused:
        anonymous.myself()
    assert status(refused) == 401
