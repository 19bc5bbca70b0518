"""`JiraSandbox`: the JIRA stand-in as one object to serve, inspect and break."""

from __future__ import annotations

from fastapi import FastAPI

from selfheal.sandbox.control import ControlRoutes, RequestCounter
from selfheal.sandbox.github.faults import Faults
from selfheal.sandbox.jira.app import create_app
from selfheal.sandbox.jira.state import Issue, JiraState
from selfheal.sandbox.serving import ServedApp


class JiraSandbox:
    """A JIRA Server REST v2 stand-in with one project, for atlassian-python-api's `Jira`.

    Any basic-auth username is accepted and becomes the author of what it writes. Issues
    follow the workflow To Do → In Progress → Done, with "Needs Human" for escalations and
    "Reopen" from Done. `custom_fields` maps field names to ids ({"Incident ID":
    "customfield_10100"} by default) for create, edit and JQL.
    """

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
        self._served: ServedApp | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve the API on a background thread and return its base URL (`Jira(url=...)`)."""
        served = ControlRoutes(self.app, self.faults, self.requests)
        self._served = ServedApp(served, host=host, port=port).start()
        return self._served.url

    def stop(self) -> None:
        """Release any hung requests and stop serving."""
        self.faults.clear()
        if self._served is not None:
            self._served.stop()
            self._served = None

    @property
    def url(self) -> str:
        """Return the base URL clients use; only while started."""
        if self._served is None:
            raise RuntimeError("the JIRA sandbox is not started")
        return self._served.url

    def __enter__(self) -> JiraSandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

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
