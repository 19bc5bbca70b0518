"""The ticket lifecycle selfheal drives, through real atlassian-python-api over HTTP."""

from __future__ import annotations

import pytest
from atlassian import Jira
from requests import HTTPError

from selfheal_lab.sandbox.jira import JiraSandbox
from tests.sandbox_jira.conftest import answer, body, status


def open_ticket(jira: Jira, incident: str, summary: str = "checkout OOMKilled") -> str:
    created = jira.issue_create(
        fields={
            "project": {"key": "OPS"},
            "summary": summary,
            "description": "Pods of checkout were OOMKilled 4 times in 10 minutes.",
            "issuetype": {"name": "Incident"},
            "labels": ["selfheal", incident],
            "customfield_10100": incident,
        }
    )
    return str(created["key"])


def test_ticket_lifecycle(sandbox: JiraSandbox, jira: Jira) -> None:
    assert answer(jira.myself())["name"] == "selfheal"
    assert answer(jira.get_server_info())["deploymentType"] == "Server"

    key = open_ticket(jira, "inc-checkout-oom-1a2b3c4d")
    assert key == "OPS-1"
    issue = answer(jira.issue(key))
    assert issue["fields"]["status"]["name"] == "To Do"
    assert issue["fields"]["summary"] == "checkout OOMKilled"
    assert issue["fields"]["labels"] == ["selfheal", "inc-checkout-oom-1a2b3c4d"]
    assert issue["fields"]["customfield_10100"] == "inc-checkout-oom-1a2b3c4d"

    jira.issue_add_comment(key, "Analysis: container exceeded its 256Mi limit.")
    jira.set_issue_status(key, "In Progress")
    jira.issue_add_comment(key, "PR opened: http://github/acme/infra/pull/1")
    jira.set_issue_status(key, "Done")

    done = answer(jira.issue(key))
    assert done["fields"]["status"]["name"] == "Done"
    assert done["fields"]["status"]["statusCategory"]["key"] == "done"
    assert done["fields"]["resolution"] == {"name": "Done"}
    bodies = [c["body"] for c in answer(jira.issue_get_comments(key))["comments"]]
    assert bodies == [
        "Analysis: container exceeded its 256Mi limit.",
        "PR opened: http://github/acme/infra/pull/1",
    ]
    assert [c.author for c in sandbox.issue(key).comments] == ["selfheal", "selfheal"]

    assert jira.get_issue_status(key) == "Done"
    assert {t["to"] for t in jira.get_issue_transitions(key)} == {"To Do", "In Progress"}
    jira.set_issue_status(key, "To Do")
    reopened = answer(jira.issue(key))
    assert reopened["fields"]["status"]["name"] == "To Do"
    assert reopened["fields"]["resolution"] is None


def test_escalation_and_labels(jira: Jira) -> None:
    key = open_ticket(jira, "inc-payments-crash-00000001")
    jira.set_issue_status(key, "Needs Human")
    jira.label_issue(key, ["needs-human"])
    jira.update_issue_field(key, {"priority": {"name": "High"}})

    issue = answer(jira.issue(key))
    assert issue["fields"]["status"]["name"] == "Needs Human"
    assert "needs-human" in issue["fields"]["labels"]
    assert issue["fields"]["priority"]["name"] == "High"
    with pytest.raises(HTTPError) as invalid:
        jira.set_issue_status_by_transition_id(key, 51)
    assert status(invalid) == 400
    assert "not valid" in str(invalid.value)


def test_search_by_label_key_and_custom_field(jira: Jira) -> None:
    first = open_ticket(jira, "inc-a-00000001", "checkout OOMKilled")
    second = open_ticket(jira, "inc-b-00000002", "catalog ImagePullBackOff")
    jira.set_issue_status(second, "Done")

    def keys(jql: str) -> list[str]:
        return [i["key"] for i in answer(jira.jql(jql))["issues"]]

    assert keys('project = OPS AND labels = "inc-a-00000001"') == [first]
    assert keys("project = OPS AND labels = selfheal ORDER BY key ASC") == [first, second]
    assert keys(f"key = {second}") == [second]
    assert keys('"Incident ID" ~ "inc-b-00000002"') == [second]
    assert keys('summary ~ "ImagePull" AND status = Done') == [second]
    assert keys("project = OPS AND resolution = Unresolved") == [first]
    assert keys("status in ('To Do', 'In Progress') OR labels = nothing") == [first]
    assert keys("project = OPS AND labels = other") == []
    with pytest.raises(HTTPError) as bad:
        jira.jql("nosuchfield = 1")
    assert status(bad) == 400


def test_custom_fields_are_set_by_id_found_by_name(jira: Jira) -> None:
    fields = answer({"fields": jira.get_all_fields()})["fields"]
    assert {"id": "customfield_10100", "name": "Incident ID"}.items() <= next(
        f for f in fields if f["name"] == "Incident ID"
    ).items()
    with pytest.raises(HTTPError) as by_name:
        jira.issue_create(
            fields={
                "project": {"key": "OPS"},
                "summary": "x",
                "issuetype": {"name": "Task"},
                "Incident ID": "inc-1",
            }
        )
    assert status(by_name) == 400
    assert "Incident ID" in body(by_name)["errors"]


def test_create_validation_and_missing_issue(jira: Jira) -> None:
    with pytest.raises(HTTPError) as invalid:
        jira.issue_create(
            fields={"project": {"key": "NOPE"}, "summary": "", "issuetype": {"name": "Task"}}
        )
    assert status(invalid) == 400
    errors = body(invalid)["errors"]
    assert set(errors) == {"project", "summary"}
    assert jira.issue_exists("OPS-99") is False
