"""GitHub pull_request and pull_request_review webhooks, turned into `pr_event` signals."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from selfheal.model.decisions import PullRequestAction, PullRequestEvent

# The fix branch is `selfheal/<incident-id>`, or `selfheal/<incident-id>-<attempt>` on a retry.
_FIX_BRANCH = re.compile(r"^selfheal/(?P<incident>inc-.+-[0-9a-f]{8})(?:-\d+)?$")


class User(BaseModel):
    login: str = ""


class BranchRef(BaseModel):
    ref: str = Field(min_length=1, description="Branch name, e.g. selfheal/inc-checkout-...")
    sha: str = ""


class PullRequest(BaseModel):
    number: int
    html_url: str = ""
    state: str = ""
    merged: bool = False
    head: BranchRef
    base: BranchRef | None = None
    user: User | None = None
    merged_by: User | None = None


class Review(BaseModel):
    state: str = Field(min_length=1, description="approved, changes_requested or commented")
    body: str | None = None
    user: User | None = None
    html_url: str = ""


class GitHubPayload(BaseModel):
    """The body of `pull_request`, `pull_request_review` and `ping` (X-GitHub-Event says which)."""

    action: str = ""
    pull_request: PullRequest | None = Field(
        default=None, description="Required for pull_request and pull_request_review"
    )
    review: Review | None = None
    sender: User | None = None
    zen: str | None = Field(default=None, description="ping only")
    hook_id: int | None = Field(default=None, description="ping only")


def incident_of_branch(branch: str) -> str | None:
    """The incident id a selfheal fix branch belongs to; None for any other branch."""
    match = _FIX_BRANCH.match(branch)
    return match["incident"] if match else None


def pr_event_of(event: str, payload: GitHubPayload) -> PullRequestEvent | None:
    """The `pr_event` signal this webhook means, or None when it changes nothing for selfheal."""
    pull = payload.pull_request
    if pull is None:
        return None
    sender = payload.sender.login if payload.sender else ""
    if event == "pull_request" and payload.action == "closed":
        merged_by = pull.merged_by.login if pull.merged_by else sender
        return PullRequestEvent(
            action=PullRequestAction.MERGED if pull.merged else PullRequestAction.CLOSED,
            number=pull.number,
            by=merged_by if pull.merged else sender,
            url=pull.html_url,
        )
    review = payload.review
    if event == "pull_request_review" and payload.action == "submitted" and review is not None:
        actions = {
            "approved": PullRequestAction.APPROVED,
            "changes_requested": PullRequestAction.CHANGES_REQUESTED,
        }
        action = actions.get(review.state.lower())
        if action is None:
            return None
        return PullRequestEvent(
            action=action,
            number=pull.number,
            by=review.user.login if review.user else sender,
            url=review.html_url or pull.html_url,
            comment=review.body or "",
        )
    return None
