"""`GitHubSandbox`: the GitHub stand-in as one object to seed, serve, inspect and break."""

from __future__ import annotations

from fastapi import FastAPI

from selfheal_lab.sandbox.control import RequestCounter, ServedStandIn
from selfheal_lab.sandbox.github.app import create_app
from selfheal_lab.sandbox.github.faults import Faults
from selfheal_lab.sandbox.github.history import History
from selfheal_lab.sandbox.github.seed import DEMO_REPO, demo_manifests
from selfheal_lab.sandbox.github.state import (
    DEFAULT_LOGIN,
    GitHubState,
    IssueComment,
    PullRequest,
    Repository,
    Review,
)
from selfheal_lab.sandbox.github.webhooks import Delivery, WebhookSender


class GitHubSandbox(ServedStandIn):
    """A GitHub REST stand-in holding one seeded repository, for PyGithub to talk to.

    `files` ({path: text}) become the first commit on `default_branch`. Any token
    authenticates as `bot_login` unless `add_user` maps it to someone else. With
    `webhook_url`, pull request and review events are POSTed there, signed with
    `webhook_secret`.
    """

    name = "GitHub"

    def __init__(
        self,
        owner_repo: str = DEMO_REPO,
        files: dict[str, str] | None = None,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        default_branch: str = "main",
        bot_login: str = DEFAULT_LOGIN,
        required_approvals: int = 0,
    ) -> None:
        self.state = GitHubState()
        self.state.default_login = bot_login
        self.state.user_id(bot_login)
        self.repo_name = owner_repo
        self.repo: Repository = self.state.add_repo(
            owner_repo, demo_manifests() if files is None else files, default_branch
        )
        self.repo.required_approvals = required_approvals
        self.faults = Faults()
        self.requests = RequestCounter()
        self.webhooks = WebhookSender(webhook_url, webhook_secret)
        self.app: FastAPI = create_app(self.state, self.faults, self.webhooks)

    # configuration

    def add_user(self, login: str, token: str) -> None:
        """Let `token` authenticate as `login` (e.g. a human reviewer)."""
        self.state.add_user(login, token)

    def set_webhook(self, url: str | None, secret: str | None = None) -> None:
        """Send future events to `url` (None stops sending), signed with `secret`."""
        self.webhooks.url = url
        self.webhooks.secret = secret

    # reading state, for tests and the GitOps sync

    @property
    def history(self) -> History:
        """Return the repository's git history (commits, trees, refs)."""
        return self.repo.history

    def read_file(self, path: str, ref: str | None = None) -> str | None:
        """Return a file's text on a branch (default branch unless `ref`), None if absent."""
        sha = self.history.resolve(ref or self.repo.default_branch)
        data = self.history.read(sha, path)
        return None if data is None else data.decode()

    def pulls(self) -> list[PullRequest]:
        """Return every pull request, oldest first."""
        return sorted(self.repo.pulls.values(), key=lambda p: p.number)

    def reviews(self, number: int) -> list[Review]:
        """Return the reviews of a pull request, in submission order."""
        return [r for r in self.repo.reviews if r.number == number]

    def comments(self, number: int) -> list[IssueComment]:
        """Return the comments on a pull request, in order."""
        return [c for c in self.repo.comments if c.number == number]

    @property
    def deliveries(self) -> list[Delivery]:
        """Return the webhook deliveries attempted so far, in order."""
        return list(self.webhooks.deliveries)
