"""The GitHub activities: the fix pull request, its state, merge, close and revert."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field

from selfheal.contracts.spec import BEST_EFFORT, ActivityCall
from selfheal.model.diagnosis import Diagnosis, FixProposal


class PullRequestRequest(BaseModel):
    """Everything needed to write the fix pull request."""

    incident_id: str
    namespace: str
    deployment: str
    diagnosis: Diagnosis
    fix: FixProposal
    ui_url: str = ""
    ticket_key: str | None = None
    attempt: int = 1
    manifest_path: str | None = Field(
        default=None, description="From the Deployment's selfheal.dev/manifest annotation"
    )


class PullRequestInfo(BaseModel):
    number: int
    url: str
    branch: str
    manifest_path: str
    diff: str = ""


class PullRequestRef(BaseModel):
    incident_id: str
    number: int


class PullRequestState(BaseModel):
    number: int
    open: bool
    merged: bool
    approved_by: list[str] = Field(default_factory=list)
    changes_requested_by: list[str] = Field(default_factory=list)
    author: str = ""


class MergeRequest(BaseModel):
    incident_id: str
    number: int
    approved_by: str


class ClosePullRequest(BaseModel):
    incident_id: str
    number: int
    reason: str


class RevertRequest(BaseModel):
    incident_id: str
    number: int
    reason: str


OPEN_PULL_REQUEST = ActivityCall("open_pull_request", PullRequestInfo, timedelta(seconds=90))


GET_PULL_REQUEST = ActivityCall(
    "get_pull_request", PullRequestState, timedelta(seconds=30), retry=BEST_EFFORT
)


MERGE_PULL_REQUEST = ActivityCall("merge_pull_request", PullRequestState, timedelta(seconds=60))


CLOSE_PULL_REQUEST = ActivityCall(
    "close_pull_request", PullRequestState, timedelta(seconds=60), retry=BEST_EFFORT
)


OPEN_REVERT_PULL_REQUEST = ActivityCall(
    "open_revert_pull_request", PullRequestInfo, timedelta(seconds=90)
)
