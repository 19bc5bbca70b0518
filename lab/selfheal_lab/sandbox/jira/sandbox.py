"""`JiraSandbox`: the JIRA stand-in as one object to serve, inspect and break."""

from __future__ import annotations

from fastapi import FastAPI

from selfheal_lab.sandbox.control import RequestCounter, ServedStandIn
from selfheal_lab.sandbox.github.faults import Faults
from selfheal_lab.sandbox.jira.app import create_app
from selfheal_lab.sandbox.jira.state import Issue, JiraState


class JiraSandbox(ServedStandIn):
    """A JIRA Server REST v2 stand-in with one project, for atlassian-python-api's `Jira`.

    Any basic-auth username is accepted and becomes the author of what it writes. Issues
    follow the workflow To Do → In Progress → Done, with "Needs Human" for escalations and
    "Reopen" from Done. `custom_fields` maps field names to ids ({"Incident ID":
    "customfield_10100"} by default) for create, edit and JQL.
    """

    name = "JIRA"

    def __init__(
        self,
        project: str = "OPS",
        *,
        project_name: str | None = None,
        custom_fields: dict[str, str] | None = None,
    ) -> None:
        self.state = JiraState(custom_fields)
        self.project = self.state.add_project(project, project_name or f"{project} incidents")
        self.faults = Faults()
        self.requests = RequestCounter()
        self.app: FastAPI = create_app(self.state, self.faults)

    def add_project(self, key: str, name: str | None = None) -> None:
        """Add another project whose issues are numbered KEY-1, KEY-2, …"""
        self.state.add_project(key, name)

    def issues(self) -> list[Issue]:
        """Return every issue, in creation order."""
        with self.state.lock:
            return sorted(self.state.issues.values(), key=lambda i: i.id)

    def issue(self, key: str) -> Issue:
        """Return one issue by key (raises JiraError when there is none)."""
        return self.state.issue(key)
