"""What the GitHub stand-in knows: users, repositories, pull requests, reviews, comments, labels.

Operations enforce GitHub's own rules (no approving your own pull request, one open pull
request per head and base, merge refused when not mergeable) and raise `ApiError` with the
status and message GitHub answers.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from selfheal_lab.sandbox.github.history import GitError, History, seeded_history, signature

DEFAULT_LOGIN = "selfheal-bot"
REVIEW_EVENTS = {
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
    "COMMENT": "COMMENTED",
}


class ApiError(Exception):
    """A refusal GitHub would answer with `status` and `message`."""

    def __init__(self, status: int, message: str, errors: list[Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


def now() -> datetime:
    """Return the current time, to the second, as GitHub reports it."""
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None


@dataclass
class Review:
    id: int
    number: int
    user: str
    state: str
    body: str
    commit_id: str
    submitted_at: datetime


@dataclass
class IssueComment:
    id: int
    number: int
    user: str
    body: str
    created_at: datetime
    updated_at: datetime


@dataclass
class PullRequest:
    id: int
    number: int
    title: str
    body: str
    user: str
    head: str
    base: str
    head_sha: str
    base_sha: str
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    draft: bool = False
    labels: list[str] = field(default_factory=list)
    closed_at: datetime | None = None
    merged_at: datetime | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None

    @property
    def merged(self) -> bool:
        return self.merged_at is not None


@dataclass
class Repository:
    """One repository: its history and the collaboration around it."""

    id: int
    owner: str
    name: str
    history: History
    default_branch: str = "main"
    required_approvals: int = 0
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    reviews: list[Review] = field(default_factory=list)
    comments: list[IssueComment] = field(default_factory=list)
    labels: dict[str, Label] = field(default_factory=dict)
    next_number: int = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def head_of(self, pull: PullRequest) -> str:
        """Return the commit a pull request proposes: its branch tip while open."""
        if pull.state == "open":
            tip = self.history.branch_head(pull.head)
            if tip is not None:
                return tip
        return pull.head_sha

    def mergeable(self, pull: PullRequest) -> bool:
        """Tell whether the pull request would merge without conflicts right now."""
        base = self.history.branch_head(pull.base)
        if base is None or self.history.branch_head(pull.head) is None:
            return False
        return not self.history.conflicts(base, self.head_of(pull))


class GitHubState:
    """Every repository and user of the stand-in, guarded by one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.repos: dict[str, Repository] = {}
        self.tokens: dict[str, str] = {}
        self.user_ids: dict[str, int] = {}
        self.default_login = DEFAULT_LOGIN
        self._ids = itertools.count(1000)

    def next_id(self) -> int:
        """Return a fresh id, unique across all objects of this stand-in."""
        return next(self._ids)

    # users

    def add_user(self, login: str, token: str) -> None:
        """Let `token` authenticate as `login`."""
        with self.lock:
            self.tokens[token] = login
            self.user_id(login)

    def login_for(self, token: str) -> str:
        """Return the login a token authenticates as; unknown tokens are the default user."""
        with self.lock:
            return self.tokens.get(token, self.default_login)

    def user_id(self, login: str) -> int:
        """Return the stable numeric id of a login."""
        with self.lock:
            if login not in self.user_ids:
                self.user_ids[login] = self.next_id()
            return self.user_ids[login]

    # repositories

    def add_repo(
        self, full_name: str, files: dict[str, str], default_branch: str = "main"
    ) -> Repository:
        """Create a repository whose default branch holds `files` in one commit."""
        owner, _, name = full_name.partition("/")
        if not owner or not name:
            raise ValueError(f"repository name must be owner/name, got {full_name!r}")
        repo = Repository(
            id=self.next_id(),
            owner=owner,
            name=name,
            history=seeded_history(files, default_branch, author=self.default_login),
            default_branch=default_branch,
        )
        with self.lock:
            self.repos[full_name.lower()] = repo
        return repo

    def repo(self, owner: str, name: str) -> Repository:
        """Return a repository, or raise GitHub's 404."""
        with self.lock:
            found = self.repos.get(f"{owner}/{name}".lower())
        if found is None:
            raise ApiError(404, "Not Found")
        return found

    # pull requests

    def open_pull(
        self, repo: Repository, user: str, title: str, head: str, base: str, body: str, draft: bool
    ) -> PullRequest:
        """Open a pull request of `head` into `base`, as `POST /pulls` does."""
        head_branch = head.split(":", 1)[-1]
        with self.lock:
            head_sha = repo.history.branch_head(head_branch)
            base_sha = repo.history.branch_head(base)
            missing = [
                {"resource": "PullRequest", "field": f, "code": "invalid"}
                for f, sha in (("head", head_sha), ("base", base_sha))
                if sha is None
            ]
            if missing or head_sha is None or base_sha is None:
                raise ApiError(422, "Validation Failed", missing)
            for pull in repo.pulls.values():
                if pull.state == "open" and pull.head == head_branch and pull.base == base:
                    message = f"A pull request already exists for {repo.owner}:{head_branch}."
                    raise ApiError(422, "Validation Failed", [_custom(message)])
            if repo.history.is_ancestor(head_sha, base_sha):
                raise ApiError(
                    422, "Validation Failed", [_custom(f"No commits between {base} and {head}")]
                )
            stamp = now()
            pull = PullRequest(
                id=self.next_id(),
                number=repo.next_number,
                title=title,
                body=body,
                user=user,
                head=head_branch,
                base=base,
                head_sha=head_sha,
                base_sha=base_sha,
                created_at=stamp,
                updated_at=stamp,
                draft=draft,
            )
            repo.pulls[pull.number] = pull
            repo.next_number += 1
            return pull

    def pull(self, repo: Repository, number: int) -> PullRequest:
        """Return a pull request by number, or raise GitHub's 404."""
        with self.lock:
            found = repo.pulls.get(number)
        if found is None:
            raise ApiError(404, "Not Found")
        return found

    def edit_pull(self, repo: Repository, pull: PullRequest, changes: dict[str, Any]) -> None:
        """Apply `PATCH /pulls/{n}`: title, body, state (close or reopen), base."""
        with self.lock:
            if pull.merged and "state" in changes:
                raise ApiError(422, "Validation Failed", [_custom("Pull request is merged")])
            for key in ("title", "body", "base"):
                if changes.get(key) is not None:
                    setattr(pull, key, changes[key])
            state = changes.get("state")
            if state == "closed" and pull.state == "open":
                pull.head_sha = repo.head_of(pull)
                pull.state = "closed"
                pull.closed_at = now()
            elif state == "open" and pull.state == "closed":
                pull.state = "open"
                pull.closed_at = None
            pull.updated_at = now()

    def review(
        self, repo: Repository, pull: PullRequest, user: str, event: str | None, body: str
    ) -> Review:
        """Submit a review; GitHub refuses approving or requesting changes on one's own PR."""
        state = REVIEW_EVENTS.get((event or "").upper())
        if event is None:
            state = "PENDING"
        if state is None:
            raise ApiError(422, "Validation Failed", [_custom(f"Unknown review event {event}")])
        if user == pull.user and state == "APPROVED":
            raise ApiError(422, "Unprocessable Entity", ["Can not approve your own pull request"])
        if user == pull.user and state == "CHANGES_REQUESTED":
            raise ApiError(
                422, "Unprocessable Entity", ["Can not request changes on your own pull request"]
            )
        if state in ("CHANGES_REQUESTED", "COMMENTED") and not body:
            raise ApiError(
                422,
                "Unprocessable Entity",
                [f"Review body is required for event {event}"],
            )
        with self.lock:
            review = Review(
                id=self.next_id(),
                number=pull.number,
                user=user,
                state=state,
                body=body,
                commit_id=repo.head_of(pull),
                submitted_at=now(),
            )
            repo.reviews.append(review)
            pull.updated_at = review.submitted_at
            return review

    def approvals(self, repo: Repository, pull: PullRequest) -> set[str]:
        """Return who approves the pull request now: each reviewer's latest verdict counts."""
        latest: dict[str, str] = {}
        with self.lock:
            for review in repo.reviews:
                if review.number == pull.number and review.state not in ("COMMENTED", "PENDING"):
                    latest[review.user] = review.state
        return {user for user, state in latest.items() if state == "APPROVED"}

    def merge(
        self,
        repo: Repository,
        pull: PullRequest,
        user: str,
        method: str,
        title: str | None,
        message: str | None,
        expected_sha: str | None,
    ) -> str:
        """Merge a pull request (squash, merge or rebase all land one commit here); return it."""
        with self.lock:
            if pull.state != "open" or pull.merged:
                raise ApiError(405, "Pull Request is not mergeable")
            head = repo.head_of(pull)
            if expected_sha is not None and expected_sha != head:
                raise ApiError(409, "Head branch was modified. Review and try the merge again.")
            if not repo.mergeable(pull):
                raise ApiError(405, "Pull Request is not mergeable")
            if len(self.approvals(repo, pull) - {pull.user}) < repo.required_approvals:
                raise ApiError(
                    405,
                    f"At least {repo.required_approvals} approving review is required by "
                    "reviewers with write access.",
                )
            if method not in ("merge", "squash", "rebase"):
                raise ApiError(
                    422, "Validation Failed", [_custom(f"Invalid merge_method {method}")]
                )
            headline = title or f"{pull.title} (#{pull.number})"
            if message is None:
                base = repo.history.branch_head(pull.base) or head
                commits = repo.history.commits_between(base, head)
                message = "\n\n".join(f"* {c.message}" for c in commits)
            full_message = headline + ("\n\n" + message if message else "")
            try:
                sha = repo.history.squash(pull.base, head, full_message, signature(user))
            except GitError as exc:
                raise ApiError(405, "Pull Request is not mergeable") from exc
            stamp = now()
            pull.head_sha = head
            pull.state = "closed"
            pull.merged_at = stamp
            pull.closed_at = stamp
            pull.updated_at = stamp
            pull.merged_by = user
            pull.merge_commit_sha = sha
            return sha

    # issue comments and labels (a pull request is an issue too)

    def comment(self, repo: Repository, number: int, user: str, body: str) -> IssueComment:
        """Add a comment to an issue or pull request."""
        self.pull(repo, number)
        if not body:
            raise ApiError(422, "Validation Failed", [{"field": "body", "code": "missing_field"}])
        stamp = now()
        with self.lock:
            comment = IssueComment(self.next_id(), number, user, body, stamp, stamp)
            repo.comments.append(comment)
            return comment

    def label(
        self, repo: Repository, name: str, color: str = "ededed", description: str | None = None
    ) -> Label:
        """Return the repository's label `name`, creating it when it does not exist yet."""
        with self.lock:
            existing = repo.labels.get(name.lower())
            if existing is not None:
                return existing
            created = Label(self.next_id(), name, color.lstrip("#"), description)
            repo.labels[name.lower()] = created
            return created

    def add_labels(self, repo: Repository, number: int, names: list[str]) -> list[Label]:
        """Put labels on an issue or pull request (creating unknown ones); return all its labels."""
        pull = self.pull(repo, number)
        with self.lock:
            for name in names:
                label = self.label(repo, name)
                if label.name not in pull.labels:
                    pull.labels.append(label.name)
            pull.updated_at = now()
            return [repo.labels[name.lower()] for name in pull.labels]


def _custom(message: str) -> dict[str, str]:
    return {"resource": "PullRequest", "code": "custom", "message": message}
