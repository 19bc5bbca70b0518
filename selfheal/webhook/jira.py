"""JIRA issue webhooks (jira:issue_created): a ticket becomes an incident linked to it."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from selfheal.model.alerts import DEFAULT_KIND, Alert, AlertSource
from selfheal.webhook.service_map import ServiceMap, WorkloadRef

HANDLED_EVENT = "jira:issue_created"

# `k8s:[<cluster>:]<namespace>/[<kind>/]<name>`: a Deployment unless the kind is given.
_K8S_TAG = re.compile(
    r"^k8s:(?:(?P<cluster>[\w.-]+):)?(?P<namespace>[\w.-]+)/(?:(?P<kind>[A-Za-z]+)/)?"
    r"(?P<deployment>[\w.-]+)$"
)
_SEVERITY_OF_PRIORITY = {
    "blocker": "critical",
    "highest": "critical",
    "critical": "critical",
    "high": "critical",
    "medium": "warning",
    "low": "info",
    "lowest": "info",
}


class Named(BaseModel):
    """A JIRA object referred to by name (priority, component, issue type, status)."""

    name: str = ""


class IssueFields(BaseModel):
    """The issue's fields; `customfield_*` values are kept and searched for a `k8s:` tag."""

    model_config = ConfigDict(extra="allow")

    summary: str = Field(min_length=1)
    description: Any = Field(default=None, description="Text (API v2) or a document (v3)")
    priority: Named | None = None
    labels: list[str] = Field(default_factory=list)
    components: list[Named] = Field(default_factory=list)
    issuetype: Named | None = None


class Issue(BaseModel):
    id: str = ""
    key: str = Field(min_length=1, max_length=50, description="The ticket key, e.g. OPS-42")
    self: str = ""
    fields: IssueFields


class JiraPayload(BaseModel):
    """JIRA's issue webhook body; only `jira:issue_created` opens an incident."""

    model_config = ConfigDict(populate_by_name=True)

    webhook_event: str = Field(alias="webhookEvent", description="e.g. jira:issue_created")
    timestamp: int | None = None
    issue: Issue | None = None


def _tagged_workload(fields: IssueFields) -> WorkloadRef | None:
    extra = fields.model_extra or {}
    custom = [value for key, value in extra.items() if key.startswith("customfield_")]
    for candidate in [*fields.labels, *_strings_in(custom)]:
        if (match := _K8S_TAG.match(candidate.strip())) is not None:
            try:
                return WorkloadRef(
                    namespace=match["namespace"],
                    deployment=match["deployment"],
                    kind=match["kind"] or DEFAULT_KIND,
                    cluster=match["cluster"] or None,
                )
            except ValidationError:
                continue  # `k8s:shop/notakind/x` tags nothing
    return None


def _strings_in(values: list[Any]) -> list[str]:
    found: list[str] = []
    for value in values:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            found.extend(_strings_in(value))
        elif isinstance(value, dict) and isinstance(value.get("value"), str):
            found.append(value["value"])  # select-list custom fields: {"value": "..."}
    return found


def alert_of(issue: Issue, services: ServiceMap) -> Alert:
    """The Alert a new ticket stands for, linked to the ticket through `ticket_key`."""
    fields = issue.fields
    ref = _tagged_workload(fields) or services.lookup(*(c.name for c in fields.components))
    priority = fields.priority.name if fields.priority else ""
    description = fields.description if isinstance(fields.description, str) else ""
    return Alert(
        name=fields.summary[:200],
        source=AlertSource.JIRA,
        cluster=ref.cluster if ref else None,
        namespace=ref.namespace if ref else None,
        workload=ref.deployment if ref else None,
        kind=ref.kind if ref else DEFAULT_KIND,
        severity=_SEVERITY_OF_PRIORITY.get(priority.lower(), "warning"),
        summary=(description or fields.summary)[:4000],
        labels={"jira_priority": priority} if priority else {},
        external_id=issue.id or issue.key,
        ticket_key=issue.key,
    )
