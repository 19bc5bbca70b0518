"""The JIRA activities: one ticket per incident, mirroring its transitions for the people there.

Built once in the worker around one atlassian-python-api client (JIRA Server/Data Center
REST v2). The client blocks, so these are sync activities run on the worker's thread pool.
Optional: with JIRA_URL unset there is no ticket, said plainly, never an error.

Idempotency: a ticket is found again by the incident id, which is one of its labels; a
comment carries a tag naming the workflow run and the activity that wrote it, so a retried
activity sees its comment and does not post it twice; transitions check the status first.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from atlassian import Jira
from temporalio import activity

from selfheal.activities.jira.errors import jira_call
from selfheal.contracts.jira import (
    OPEN_TICKET,
    UPDATE_TICKET,
    TicketRef,
    TicketRequest,
    TicketUpdate,
)
from selfheal.contracts.spec import implements
from selfheal.model.incident import IncidentState
from selfheal.redaction import redact_text
from selfheal.settings import Settings

__all__ = ["NEEDS_HUMAN_LABEL", "NOT_CONFIGURED", "JiraActivities"]

NOT_CONFIGURED = "JIRA not configured (JIRA_URL unset): no ticket"
NEEDS_HUMAN_LABEL = "needs-human"
ISSUE_TYPE = "Task"
REQUEST_TIMEOUT_SECONDS = 15
MAX_SUMMARY = 250


def _label(text: str) -> str:
    """Return `text` as a JIRA label: no whitespace allowed."""
    return re.sub(r"\s+", "-", text.strip())[:255]


class JiraActivities:
    """The incident's ticket in JIRA_PROJECT, through one client built on first use."""

    def __init__(self, settings: Settings, client: Jira | None = None) -> None:
        self._settings = settings
        self._client = client
        self._lock = threading.Lock()

    # --- activities ------------------------------------------------------------------------

    @implements(OPEN_TICKET)
    def open_ticket(self, request: TicketRequest) -> TicketRef:
        """Link the alert's ticket, or find or create the incident's own, and start progress."""
        jira = self._jira()
        if jira is None:
            return TicketRef(note=NOT_CONFIGURED)
        labels = list(
            dict.fromkeys(_label(x) for x in ["selfheal", *request.labels, request.incident_id])
        )
        if request.existing_key:
            issue = self._issue(jira, request.existing_key)
            self._add_labels(jira, issue, labels)
            self._comment_once(
                jira,
                issue["key"],
                f"selfheal is handling this as incident {request.incident_id}. {self._ui_link()}",
                tag=self._tag(request.incident_id, "link"),
            )
            note = "linked the alert's ticket"
        else:
            found = self._find(jira, request.incident_id)
            if found is None:
                issue = self._create(jira, request, labels)
                note = "created"
            elif self._is_done(found):
                issue = found
                self._comment_once(
                    jira,
                    issue["key"],
                    f"The problem is back: incident {request.incident_id} fired again, so "
                    f"selfheal reopened this ticket. {self._ui_link()}",
                    tag=self._tag(request.incident_id, "reopen"),
                )
                note = "reopened: the incident recurred"
            else:
                issue = found
                note = "found the incident's open ticket"
        self._move(jira, issue, self._settings.jira_status_in_progress)
        return self._ref(issue["key"], note)

    @implements(UPDATE_TICKET)
    def update_ticket(self, request: TicketUpdate) -> TicketRef:
        """Comment the transition on the ticket and move it to the matching status."""
        jira = self._jira()
        if jira is None:
            return TicketRef(note=NOT_CONFIGURED)
        settings = self._settings
        issue = self._issue(jira, request.key)
        alerts = f"Alerts so far: {redact_text(request.alerts)}\n" if request.alerts else ""
        body = (
            f"*{request.state.value}*: {redact_text(request.comment)}\n\n"
            f"{alerts}Incident {request.incident_id}. {self._ui_link()}"
        )
        self._comment_once(jira, request.key, body, tag=self._tag(request.incident_id, "step"))
        if request.state == IncidentState.RESOLVED:
            moved = self._move(jira, issue, settings.jira_status_done)
            note = f"moved to {settings.jira_status_done}" if moved else "commented"
        elif request.state == IncidentState.ESCALATED:
            if self._move(jira, issue, settings.jira_status_needs_human):
                note = f"moved to {settings.jira_status_needs_human}"
            else:
                self._add_labels(jira, issue, [NEEDS_HUMAN_LABEL])
                note = f"no transition to {settings.jira_status_needs_human}: labelled needs-human"
        else:
            self._remove_label(jira, issue, NEEDS_HUMAN_LABEL)
            moved = self._move(jira, issue, settings.jira_status_in_progress)
            note = f"in {settings.jira_status_in_progress}" if moved else "commented"
        return self._ref(request.key, note)

    # --- client ----------------------------------------------------------------------------

    def _jira(self) -> Jira | None:
        settings = self._settings
        if self._client is not None or not settings.jira_url:
            return self._client
        with self._lock:
            if self._client is None:
                token = settings.jira_token.get_secret_value() if settings.jira_token else None
                auth: dict[str, Any] = (
                    {"username": settings.jira_user, "password": token}
                    if settings.jira_user
                    else {"token": token}
                )
                self._client = Jira(url=settings.jira_url, timeout=REQUEST_TIMEOUT_SECONDS, **auth)
            return self._client

    # --- reading ---------------------------------------------------------------------------

    def _issue(self, jira: Jira, key: str) -> dict[str, Any]:
        with jira_call(f"read ticket {key}"):
            found = jira.issue(key, fields="status,labels")
        assert isinstance(found, dict)
        return found

    def _find(self, jira: Jira, incident_id: str) -> dict[str, Any] | None:
        """Return the newest ticket labelled with the incident id, in any status."""
        query = f'labels = "{incident_id}" ORDER BY created DESC'
        with jira_call(f"search tickets of {incident_id}"):
            answer = jira.jql(query, fields="status,labels", limit=1)
        issues = (answer or {}).get("issues") or []
        return issues[0] if issues else None

    def _is_done(self, issue: dict[str, Any]) -> bool:
        status = (issue.get("fields") or {}).get("status") or {}
        category = (status.get("statusCategory") or {}).get("key")
        return category == "done" or _same(status.get("name"), self._settings.jira_status_done)

    # --- writing ---------------------------------------------------------------------------

    def _create(self, jira: Jira, request: TicketRequest, labels: list[str]) -> dict[str, Any]:
        description = (
            f"{redact_text(request.description)}\n\n"
            f"selfheal incident {request.incident_id}. {self._ui_link()}"
        )
        fields = {
            "project": {"key": self._settings.jira_project},
            "summary": request.summary[:MAX_SUMMARY],
            "description": description,
            "issuetype": {"name": ISSUE_TYPE},
            "labels": labels,
        }
        with jira_call(f"create a ticket in project {self._settings.jira_project}"):
            created = jira.create_issue(fields=fields)
        assert isinstance(created, dict)
        return self._issue(jira, str(created["key"]))

    def _move(self, jira: Jira, issue: dict[str, Any], status: str) -> bool:
        """Move the ticket to `status`; return False when its workflow offers no way there."""
        key = issue["key"]
        current = ((issue.get("fields") or {}).get("status") or {}).get("name")
        if _same(current, status):
            return True
        with jira_call(f"transition ticket {key} to {status}"):
            transitions = jira.get_issue_transitions(key)
            direct = next((t for t in transitions if _same(t["to"], status)), None)
            if direct is None and self._is_done(issue):
                # Some workflows only reopen to the first status; take that step first.
                reopen = next((t for t in transitions if "reopen" in t["name"].lower()), None)
                if reopen is not None:
                    jira.set_issue_status_by_transition_id(key, reopen["id"])
                    transitions = jira.get_issue_transitions(key)
                    direct = next((t for t in transitions if _same(t["to"], status)), None)
            if direct is None:
                return False
            jira.set_issue_status_by_transition_id(key, direct["id"])
        return True

    def _add_labels(self, jira: Jira, issue: dict[str, Any], labels: list[str]) -> None:
        have = set((issue.get("fields") or {}).get("labels") or [])
        missing = [label for label in labels if label not in have]
        if missing:
            with jira_call(f"label ticket {issue['key']}"):
                jira.label_issue(issue["key"], missing)

    def _remove_label(self, jira: Jira, issue: dict[str, Any], label: str) -> None:
        if label in ((issue.get("fields") or {}).get("labels") or []):
            with jira_call(f"unlabel ticket {issue['key']}"):
                jira.unlabel_issue(issue["key"], [label])

    def _comment_once(self, jira: Jira, key: str, body: str, tag: str) -> None:
        """Comment on the ticket unless a comment carrying `tag` is already there."""
        with jira_call(f"comment on ticket {key}"):
            answer = jira.issue_get_comments(key)
            comments = (answer or {}).get("comments") or []
            if any(tag in str(comment.get("body", "")) for comment in comments):
                return
            jira.issue_add_comment(key, f"{body}\n\n{tag}")

    # --- text ------------------------------------------------------------------------------

    def _tag(self, incident_id: str, what: str) -> str:
        """Return the tag of the comment this activity execution writes; retries share it."""
        info = activity.info()
        run = (info.workflow_run_id or "")[:8]
        return f"[selfheal:{incident_id}:{what}:{run}:{info.activity_id}]"

    def _ui_link(self) -> str:
        info = activity.info()
        base = self._settings.temporal_ui_url.rstrip("/")
        return (
            f"Temporal UI: {base}/namespaces/{info.workflow_namespace}/workflows/{info.workflow_id}"
        )

    def _ref(self, key: str, note: str) -> TicketRef:
        base = (self._settings.jira_url or "").rstrip("/")
        return TicketRef(key=key, url=f"{base}/browse/{key}", note=note)


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").strip().lower() == (b or "").strip().lower()
