"""What the JIRA stand-in knows: projects, issues, comments, and the rules for changing them.

Operations raise `JiraError` with the status and the `errorMessages`/`errors` JIRA answers.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from selfheal_lab.sandbox.jira import workflow

ISSUE_TYPES = ("Task", "Bug", "Incident", "Story", "Epic")
PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")
DEFAULT_CUSTOM_FIELDS = {"Incident ID": "customfield_10100"}
SYSTEM_FIELDS = {"summary", "description", "labels", "priority", "assignee", "reporter"}


class JiraError(Exception):
    """A refusal JIRA would answer with `status`, `messages` and per-field `errors`."""

    def __init__(
        self, status: int, messages: list[str] | None = None, errors: dict[str, str] | None = None
    ) -> None:
        super().__init__("; ".join([*(messages or []), *(errors or {}).values()]))
        self.status = status
        self.messages = messages or []
        self.errors = errors or {}


def now() -> datetime:
    """Return the current time to the millisecond, as JIRA records it."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass
class Comment:
    id: int
    author: str
    body: str
    created: datetime
    updated: datetime


@dataclass
class Change:
    """One changelog entry: who changed which field from what to what."""

    id: int
    author: str
    created: datetime
    field: str
    before: str | None
    after: str | None


@dataclass
class Project:
    id: int
    key: str
    name: str
    next_number: int = 1


@dataclass
class Issue:
    id: int
    key: str
    project: Project
    summary: str
    issuetype: str
    reporter: str
    created: datetime
    updated: datetime
    description: str | None = None
    status: str = workflow.INITIAL_STATUS
    labels: list[str] = field(default_factory=list)
    priority: str = "Medium"
    assignee: str | None = None
    resolution: str | None = None
    resolutiondate: datetime | None = None
    custom: dict[str, Any] = field(default_factory=dict)
    comments: list[Comment] = field(default_factory=list)
    changelog: list[Change] = field(default_factory=list)


class JiraState:
    """Every project and issue of the stand-in, guarded by one lock."""

    def __init__(self, custom_fields: dict[str, str] | None = None) -> None:
        self.lock = threading.RLock()
        self.projects: dict[str, Project] = {}
        self.issues: dict[str, Issue] = {}
        self.custom_fields = dict(DEFAULT_CUSTOM_FIELDS if custom_fields is None else custom_fields)
        self._ids = itertools.count(10000)

    def add_project(self, key: str, name: str | None = None) -> Project:
        """Create a project whose issues are numbered KEY-1, KEY-2, …"""
        with self.lock:
            project = Project(next(self._ids), key.upper(), name or key.upper())
            self.projects[project.key] = project
            return project

    def project(self, key_or_id: str) -> Project:
        """Return a project by key or id, or raise JIRA's 404."""
        with self.lock:
            for project in self.projects.values():
                if key_or_id.upper() == project.key or key_or_id == str(project.id):
                    return project
        raise JiraError(404, [f"No project could be found with key '{key_or_id}'."])

    def issue(self, key_or_id: str) -> Issue:
        """Return an issue by key or id, or raise JIRA's 404."""
        with self.lock:
            found = self.issues.get(key_or_id.upper())
            if found is None:
                found = next((i for i in self.issues.values() if str(i.id) == key_or_id), None)
        if found is None:
            raise JiraError(404, ["Issue Does Not Exist"])
        return found

    @property
    def custom_field_ids(self) -> set[str]:
        """Return the ids (`customfield_n`) of the custom fields issues may carry."""
        return set(self.custom_fields.values())

    def field_id(self, name_or_id: str) -> str | None:
        """Return the id of a custom field given its name, id or `cf[n]` form."""
        lowered = name_or_id.lower()
        if lowered.startswith("cf[") and lowered.endswith("]"):
            lowered = f"customfield_{lowered[3:-1]}"
        for name, field_id in self.custom_fields.items():
            if lowered in (name.lower(), field_id):
                return field_id
        return None

    # issues

    def create(self, fields: dict[str, Any], reporter: str) -> Issue:
        """Create an issue from a create request's `fields`, validating them as JIRA does."""
        errors: dict[str, str] = {}
        project_ref = fields.get("project") or {}
        project: Project | None = None
        try:
            project = self.project(str(project_ref.get("key") or project_ref.get("id") or ""))
        except JiraError:
            errors["project"] = "valid project is required"
        if not str(fields.get("summary") or "").strip():
            errors["summary"] = "You must specify a summary of the issue."
        issuetype = (fields.get("issuetype") or {}).get("name")
        if issuetype not in ISSUE_TYPES:
            errors["issuetype"] = "Specify a valid issue type"
        self._check_fields(fields, errors)
        if errors or project is None:
            raise JiraError(400, [], errors)
        stamp = now()
        with self.lock:
            issue = Issue(
                id=next(self._ids),
                key=f"{project.key}-{project.next_number}",
                project=project,
                summary=str(fields["summary"]),
                issuetype=str(issuetype),
                reporter=reporter,
                created=stamp,
                updated=stamp,
            )
            project.next_number += 1
            self._set_fields(issue, fields, reporter, record=False)
            self.issues[issue.key] = issue
            return issue

    def _check_fields(self, fields: dict[str, Any], errors: dict[str, str]) -> None:
        for label in fields.get("labels") or []:
            if not isinstance(label, str) or not label or any(c.isspace() for c in label):
                errors["labels"] = f"The label '{label}' contains spaces which is invalid."
        priority = (fields.get("priority") or {}).get("name")
        if priority is not None and priority not in PRIORITIES:
            errors["priority"] = f"Priority name '{priority}' is not valid"
        for name in fields:
            # Like JIRA, edits name custom fields by id only; names work in JQL alone.
            known = name in SYSTEM_FIELDS | {"project", "issuetype"} | self.custom_field_ids
            if not known:
                errors[name] = (
                    f"Field '{name}' cannot be set. It is not on the appropriate screen, "
                    "or unknown."
                )

    def _set_fields(self, issue: Issue, fields: dict[str, Any], author: str, record: bool) -> None:
        for name, value in fields.items():
            if name in ("project", "issuetype"):
                continue
            if name == "priority":
                value = (value or {}).get("name", "Medium")
            elif name in ("assignee", "reporter"):
                value = None if value is None else value.get("name")
            elif name == "labels":
                value = list(dict.fromkeys(value or []))
            field_id = name if name in self.custom_field_ids else None
            before = issue.custom.get(field_id) if field_id else getattr(issue, name)
            if field_id:
                issue.custom[field_id] = value
            else:
                setattr(issue, name, value)
            if record and before != value:
                self._record(issue, author, name, before, value)

    def _record(self, issue: Issue, author: str, name: str, before: Any, after: Any) -> None:
        def text(value: Any) -> str | None:
            if value is None:
                return None
            return " ".join(value) if isinstance(value, list) else str(value)

        issue.changelog.append(
            Change(next(self._ids), author, now(), name, text(before), text(after))
        )

    def update(self, issue: Issue, body: dict[str, Any], author: str) -> None:
        """Apply an edit request: `fields` to set and `update` operations (add/remove/set)."""
        fields = dict(body.get("fields") or {})
        errors: dict[str, str] = {}
        if "status" in fields or "status" in (body.get("update") or {}):
            errors["status"] = (
                "Field 'status' cannot be set. It is not on the appropriate screen, or unknown."
            )
        self._check_fields(fields, errors)
        if "summary" in fields and not str(fields["summary"] or "").strip():
            errors["summary"] = "You must specify a summary of the issue."
        with self.lock:
            labels = list(issue.labels)
            comments: list[str] = []
            for name, operations in (body.get("update") or {}).items():
                for operation in operations:
                    if name == "labels":
                        labels = _label_operation(labels, operation)
                    elif name == "comment" and "add" in operation:
                        comments.append(str(operation["add"].get("body", "")))
                    elif "set" in operation:
                        fields[name] = operation["set"]
                    else:
                        errors[name] = f"Operation {sorted(operation)} is not supported on {name}"
            if labels != issue.labels:
                fields["labels"] = labels
                self._check_fields({"labels": labels}, errors)
            if errors:
                raise JiraError(400, [], errors)
            self._set_fields(issue, fields, author, record=True)
            for text in comments:
                self.comment(issue, author, text)
            issue.updated = now()

    def comment(self, issue: Issue, author: str, body: str) -> Comment:
        """Add a comment to an issue."""
        if not body.strip():
            raise JiraError(400, [], {"comment": "Comment body can not be empty!"})
        stamp = now()
        with self.lock:
            comment = Comment(next(self._ids), author, body, stamp, stamp)
            issue.comments.append(comment)
            issue.updated = stamp
            return comment

    def transition(self, issue: Issue, body: dict[str, Any], author: str) -> None:
        """Move an issue along the workflow, as `POST /issue/{key}/transitions` does."""
        requested = body.get("transition") or {}
        transition_id = requested.get("id")
        with self.lock:
            chosen = workflow.find(
                issue.status,
                None if transition_id is None else str(transition_id),
                requested.get("name"),
            )
            if chosen is None:
                named = transition_id if transition_id is not None else requested.get("name")
                raise JiraError(400, [f"Transition id '{named}' is not valid for this issue."])
            before = issue.status
            issue.status = chosen.to
            self._record(issue, author, "status", before, chosen.to)
            fields = dict(body.get("fields") or {})
            resolution = (fields.pop("resolution", None) or {}).get("name")
            if chosen.to == workflow.DONE.name:
                issue.resolution = resolution or "Done"
                issue.resolutiondate = now()
            else:
                issue.resolution = None
                issue.resolutiondate = None
            if fields or body.get("update"):
                self.update(issue, {"fields": fields, "update": body.get("update") or {}}, author)
            issue.updated = now()


def _label_operation(labels: list[str], operation: dict[str, Any]) -> list[str]:
    if "set" in operation:
        return list(dict.fromkeys(operation["set"] or []))
    if "add" in operation and operation["add"] not in labels:
        return [*labels, operation["add"]]
    if "remove" in operation:
        return [label for label in labels if label != operation["remove"]]
    return labels
