"""JIRA REST v2 JSON shapes for the stand-in's objects; `self` links point back at it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from selfheal_lab.sandbox.jira import workflow
from selfheal_lab.sandbox.jira.state import Comment, Issue, JiraState, Project

Json = dict[str, Any]


def stamp(moment: datetime | None) -> str | None:
    """Return a timestamp the way JIRA writes it (`2024-01-01T00:00:00.000+0000`)."""
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


class Renderer:
    """Turns state into JIRA's JSON, with links under `base` (the URL clients reached us at)."""

    def __init__(self, base: str, state: JiraState) -> None:
        self.base = base.rstrip("/")
        self.api = f"{self.base}/rest/api/2"
        self.state = state

    def user(self, name: str | None) -> Json | None:
        if name is None:
            return None
        return {
            "self": f"{self.api}/user?username={name}",
            "key": name,
            "name": name,
            "displayName": name,
            "emailAddress": f"{name}@sandbox.local",
            "active": True,
            "timeZone": "UTC",
        }

    def status(self, name: str) -> Json:
        status = workflow.STATUSES[name]
        return {
            "self": f"{self.api}/status/{status.id}",
            "id": status.id,
            "name": status.name,
            "description": "",
            "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
            "statusCategory": {
                "self": f"{self.api}/statuscategory/{status.category_id}",
                "id": status.category_id,
                "key": status.category_key,
                "name": status.category_name,
                "colorName": {"new": "blue-gray", "done": "green"}.get(
                    status.category_key, "yellow"
                ),
            },
        }

    def project(self, project: Project) -> Json:
        return {
            "self": f"{self.api}/project/{project.id}",
            "id": str(project.id),
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "software",
        }

    def comment(self, issue: Issue, comment: Comment) -> Json:
        return {
            "self": f"{self.api}/issue/{issue.id}/comment/{comment.id}",
            "id": str(comment.id),
            "author": self.user(comment.author),
            "updateAuthor": self.user(comment.author),
            "body": comment.body,
            "created": stamp(comment.created),
            "updated": stamp(comment.updated),
        }

    def comments(self, issue: Issue) -> Json:
        return {
            "startAt": 0,
            "maxResults": len(issue.comments),
            "total": len(issue.comments),
            "comments": [self.comment(issue, c) for c in issue.comments],
        }

    def all_fields(self, issue: Issue) -> Json:
        fields: Json = {
            "summary": issue.summary,
            "description": issue.description,
            "issuetype": {"name": issue.issuetype, "subtask": False},
            "project": self.project(issue.project),
            "status": self.status(issue.status),
            "labels": list(issue.labels),
            "priority": {"name": issue.priority},
            "reporter": self.user(issue.reporter),
            "creator": self.user(issue.reporter),
            "assignee": self.user(issue.assignee),
            "created": stamp(issue.created),
            "updated": stamp(issue.updated),
            "resolution": None if issue.resolution is None else {"name": issue.resolution},
            "resolutiondate": stamp(issue.resolutiondate),
            "comment": self.comments(issue),
        }
        for field_id in self.state.custom_fields.values():
            fields[field_id] = issue.custom.get(field_id)
        return fields

    def issue(self, issue: Issue, wanted: str | None = None, expand: str = "") -> Json:
        """Return an issue with the fields a `fields=` parameter asks for (default: all)."""
        fields = self.all_fields(issue)
        selectors = [s.strip() for s in (wanted or "*all").split(",") if s.strip()]
        chosen: set[str] = set()
        for selector in selectors:
            if selector in ("*all", "*navigable"):
                chosen |= set(fields)
            elif selector == "*none":
                continue
            elif selector.startswith("-"):
                chosen.discard(selector[1:])
            else:
                chosen.add(self.state.field_id(selector) or selector)
        body: Json = {
            "expand": "renderedFields,names,schema,transitions,changelog",
            "id": str(issue.id),
            "self": f"{self.api}/issue/{issue.id}",
            "key": issue.key,
            "fields": {name: fields[name] for name in fields if name in chosen},
        }
        if "changelog" in expand:
            body["changelog"] = self.changelog(issue)
        if "transitions" in expand:
            body["transitions"] = self.transitions(issue)
        return body

    def changelog(self, issue: Issue) -> Json:
        histories = [
            {
                "id": str(change.id),
                "author": self.user(change.author),
                "created": stamp(change.created),
                "items": [
                    {
                        "field": change.field,
                        "fieldtype": "jira",
                        "from": change.before,
                        "fromString": change.before,
                        "to": change.after,
                        "toString": change.after,
                    }
                ],
            }
            for change in issue.changelog
        ]
        return {
            "startAt": 0,
            "maxResults": len(histories),
            "total": len(histories),
            "histories": histories,
        }

    def transitions(self, issue: Issue) -> list[Json]:
        return [
            {
                "id": t.id,
                "name": t.name,
                "to": self.status(t.to),
                "hasScreen": False,
                "isGlobal": False,
                "isInitial": False,
                "isConditional": False,
                "fields": {},
            }
            for t in workflow.available(issue.status)
        ]

    def fields(self) -> list[Json]:
        system = [
            ("summary", "Summary", "string"),
            ("description", "Description", "string"),
            ("labels", "Labels", "array"),
            ("status", "Status", "status"),
            ("issuetype", "Issue Type", "issuetype"),
            ("project", "Project", "project"),
            ("priority", "Priority", "priority"),
            ("resolution", "Resolution", "resolution"),
            ("comment", "Comment", "comments-page"),
        ]
        out: list[Json] = [
            {
                "id": field_id,
                "name": name,
                "custom": False,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [field_id],
                "schema": {"type": kind, "system": field_id},
            }
            for field_id, name, kind in system
        ]
        for name, field_id in self.state.custom_fields.items():
            number = field_id.removeprefix("customfield_")
            out.append(
                {
                    "id": field_id,
                    "name": name,
                    "custom": True,
                    "orderable": True,
                    "navigable": True,
                    "searchable": True,
                    "clauseNames": [f"cf[{number}]", name],
                    "schema": {"type": "string", "customId": int(number)},
                }
            )
        return out
