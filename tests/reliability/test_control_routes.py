"""The stand-ins' control routes: a fault set from outside bites, is counted, and heals."""

from __future__ import annotations

import httpx
from atlassian import Jira

from selfheal_lab.experiments.standins import StandIn
from selfheal_lab.sandbox.jira import JiraSandbox


def test_a_fault_set_over_http_fails_the_client_until_healed():
    with JiraSandbox() as sandbox:
        standin = StandIn("jira", sandbox.url)
        jira = Jira(url=sandbox.url, username="someone", password="x")
        standin.reset_requests()

        standin.fail(503, path_contains="/rest/api/2/search")
        failed = httpx.get(f"{sandbox.url}/rest/api/2/search", params={"jql": "project = OPS"})
        assert failed.status_code == 503
        assert standin.fault()["injected"] == 1

        standin.heal()
        assert standin.fault()["active"] is None
        assert jira.jql("project = OPS")["total"] == 0

        counts = standin.requests()
        assert counts.matching("/rest/api/2/search") == 2
        assert counts.mutating == 0


def test_a_bad_fault_request_is_refused_with_422():
    with JiraSandbox() as sandbox:
        answer = httpx.put(f"{sandbox.url}/sandbox/v1/faults", json={"status": 42})
        assert answer.status_code == 422
        assert httpx.get(f"{sandbox.url}/sandbox/v1/nothing").status_code == 404
