"""The GitHub activities: the fix as a pull request against the manifest repository.

Built once in the worker around one PyGithub client. PyGithub blocks, so these are sync
activities run on the worker's thread pool. PyGithub's own retries are off and its
timeout is short: Temporal's retry policy owns retrying. Every side effect is found again
on retry (branch, commit, pull request, comment) instead of being made twice.
"""

from __future__ import annotations

import threading

from github import Auth, Github, GithubException, UnknownObjectException
from github.PullRequest import PullRequest
from github.Repository import Repository
from temporalio.exceptions import ApplicationError

from selfheal.activities.github import text
from selfheal.activities.github.errors import github_call, github_message, translate
from selfheal.activities.github.locate import Manifest, locate_manifest, read_file
from selfheal.activities.manifests import ManifestEditError, apply_patch, unified_diff
from selfheal.contracts.github import (
    CLOSE_PULL_REQUEST,
    GET_PULL_REQUEST,
    MERGE_PULL_REQUEST,
    OPEN_PULL_REQUEST,
    OPEN_REVERT_PULL_REQUEST,
    ClosePullRequest,
    MergeRequest,
    PullRequestInfo,
    PullRequestRef,
    PullRequestRequest,
    PullRequestState,
    RevertRequest,
)
from selfheal.contracts.spec import implements
from selfheal.settings import Settings

__all__ = ["GitHubActivities", "fix_branch", "revert_branch"]

REQUEST_TIMEOUT_SECONDS = 15
FIX_LABELS = ("selfheal",)
REVERT_LABELS = ("selfheal", "revert")


def fix_branch(incident_id: str, attempt: int) -> str:
    """Return the branch of an incident's fix: `selfheal/<id>`, `selfheal/<id>-<n>` on retries."""
    return f"selfheal/{incident_id}" if attempt <= 1 else f"selfheal/{incident_id}-{attempt}"


def revert_branch(incident_id: str) -> str:
    """Return the branch that reverts an incident's merged fix."""
    return f"selfheal/{incident_id}-revert"


class GitHubActivities:
    """Pull requests against GITHUB_REPO, through one PyGithub client built on first use."""

    def __init__(self, settings: Settings, client: Github | None = None) -> None:
        self._settings = settings
        self._client = client
        self._login: str | None = None
        self._lock = threading.Lock()

    # --- activities ------------------------------------------------------------------------

    @implements(OPEN_PULL_REQUEST)
    def open_pull_request(self, request: PullRequestRequest) -> PullRequestInfo:
        """Open (or find again) the pull request that applies the fix to the manifest."""
        repo = self._repo()
        base = self._settings.github_base_branch
        base_sha = self._branch_head(repo, base)
        manifest = locate_manifest(
            repo,
            base,
            request.namespace,
            request.deployment,
            request.manifest_path,
            request.fix.workload_kind,
        )
        patched = self._patched(repo, base, manifest, request)
        diff = unified_diff(manifest.path, manifest.text, patched)
        branch = fix_branch(request.incident_id, request.attempt)
        pull = self._open_pull(repo, branch, base)
        if pull is None:
            self._prepare_branch(repo, branch, base_sha)
            message = (
                f"{text.fix_title(request)}\n\n{request.fix.rationale}\n\n"
                f"Incident: {request.incident_id}"
            )
            self._write_file(repo, branch, manifest.path, patched, message)
            pull = self._create_pull(
                repo,
                branch,
                base,
                text.fix_title(request),
                text.fix_body(request, manifest.path, diff),
            )
        self._label(repo, pull, [*FIX_LABELS, f"risk:{request.fix.risk.value}"])
        return PullRequestInfo(
            number=pull.number,
            url=pull.html_url,
            branch=branch,
            manifest_path=manifest.path,
            diff=diff,
        )

    @implements(GET_PULL_REQUEST)
    def get_pull_request(self, request: PullRequestRef) -> PullRequestState:
        """Return whether the pull request is open or merged, and who approves it now."""
        repo = self._repo()
        return self._state(repo, self._pull(repo, request.number))

    @implements(MERGE_PULL_REQUEST)
    def merge_pull_request(self, request: MergeRequest) -> PullRequestState:
        """Squash-merge the approved pull request noting the approver; merged already is fine."""
        repo = self._repo()
        bot = self._bot_login()
        if request.approved_by.strip().lower() == bot.lower():
            raise ApplicationError(
                f"{request.approved_by} is the GitHub account selfheal opens pull requests with; "
                f"it cannot approve its own pull request #{request.number}. A person must approve",
                type="SelfApproval",
                non_retryable=True,
            )
        pull = self._pull(repo, request.number)
        if pull.merged:
            return self._state(repo, pull)
        if pull.state != "open":
            raise ApplicationError(
                f"pull request #{pull.number} in {repo.full_name} was closed without merging; "
                "reopen it or retry the incident",
                type="PullRequestClosed",
                non_retryable=True,
            )
        self._comment_once(
            repo,
            pull,
            text.merge_comment(request.incident_id, request.approved_by),
            text.marker(request.incident_id, "merge"),
        )
        try:
            pull.merge(
                merge_method="squash",
                commit_title=f"{pull.title} (#{pull.number})",
                commit_message=f"Approved by {request.approved_by}; incident {request.incident_id}",
                sha=pull.head.sha,
            )
        except GithubException as exc:
            if self._pull(repo, pull.number).merged:
                return self._state(repo, self._pull(repo, pull.number))
            if exc.status in (405, 409):
                raise ApplicationError(
                    f"GitHub refused to merge pull request #{pull.number} in {repo.full_name}: "
                    f"{github_message(exc)}",
                    type="MergeRefused",
                    non_retryable=True,
                ) from exc
            raise translate(exc, f"merge pull request #{pull.number}", repo.full_name) from exc
        return self._state(repo, self._pull(repo, pull.number))

    @implements(CLOSE_PULL_REQUEST)
    def close_pull_request(self, request: ClosePullRequest) -> PullRequestState:
        """Comment why and close the pull request; closed or merged already is fine."""
        repo = self._repo()
        pull = self._pull(repo, request.number)
        if pull.state == "open":
            self._comment_once(
                repo,
                pull,
                text.close_comment(request.incident_id, request.reason),
                text.marker(request.incident_id, "close"),
            )
            with github_call(f"close pull request #{pull.number}", repo.full_name):
                pull.edit(state="closed")
            pull = self._pull(repo, pull.number)
        return self._state(repo, pull)

    @implements(OPEN_REVERT_PULL_REQUEST)
    def open_revert_pull_request(self, request: RevertRequest) -> PullRequestInfo:
        """Open (or find again) a pull request restoring the files a merged fix changed."""
        repo = self._repo()
        pull = self._pull(repo, request.number)
        if not pull.merged or not pull.merge_commit_sha:
            raise ApplicationError(
                f"pull request #{request.number} in {repo.full_name} is not merged: nothing to "
                "revert",
                type="NothingToRevert",
                non_retryable=True,
            )
        base = self._settings.github_base_branch
        base_sha = self._branch_head(repo, base)
        restore = self._files_before(repo, pull.merge_commit_sha, base)
        diff = "".join(
            unified_diff(path, now.text, before.text if before else "")
            for path, (now, before) in restore.items()
        )
        branch = revert_branch(request.incident_id)
        revert = self._open_pull(repo, branch, base)
        if revert is None:
            self._prepare_branch(repo, branch, base_sha)
            title = text.revert_title(request.number, request.incident_id)
            for path, (_, before) in restore.items():
                message = f"{title}\n\n{request.reason}"
                if before is None:
                    self._delete_file(repo, branch, path, message)
                else:
                    self._write_file(repo, branch, path, before.text, message)
            revert = self._create_pull(
                repo, branch, base, title, text.revert_body(request, list(restore), diff)
            )
        self._label(repo, revert, list(REVERT_LABELS))
        return PullRequestInfo(
            number=revert.number,
            url=revert.html_url,
            branch=branch,
            manifest_path=next(iter(restore)),
            diff=diff,
        )

    # --- client and repository -------------------------------------------------------------

    def _github(self) -> Github:
        settings = self._settings
        if not settings.github_repo or (self._client is None and settings.github_token is None):
            raise ApplicationError(
                "GitHub is not configured: set GITHUB_REPO to the manifest repository "
                "(owner/name) and GITHUB_TOKEN to a token that may push branches and open pull "
                "requests there (GITHUB_API_URL for GitHub Enterprise or the sandbox)",
                type="GitHubNotConfigured",
                non_retryable=True,
            )
        with self._lock:
            if self._client is None:
                assert settings.github_token is not None
                self._client = Github(
                    base_url=settings.github_api_url.rstrip("/"),
                    auth=Auth.Token(settings.github_token.get_secret_value()),
                    timeout=REQUEST_TIMEOUT_SECONDS,
                    retry=None,
                    seconds_between_requests=None,
                    seconds_between_writes=None,
                    per_page=100,
                )
            return self._client

    def _repo(self) -> Repository:
        client = self._github()
        name = self._settings.github_repo or ""
        with github_call("read the repository", name):
            try:
                return client.get_repo(name)
            except UnknownObjectException as exc:
                raise ApplicationError(
                    f"repository {name} not found at {self._settings.github_api_url} (or "
                    "GITHUB_TOKEN may not read it): check GITHUB_REPO and the token's access",
                    type="RepositoryNotFound",
                    non_retryable=True,
                ) from exc

    def _bot_login(self) -> str:
        if self._login is None:
            client = self._github()
            with github_call("read the token's own user", self._settings.github_repo or ""):
                self._login = client.get_user().login
        return self._login

    def _branch_head(self, repo: Repository, branch: str) -> str:
        with github_call(f"read branch {branch}", repo.full_name):
            try:
                return repo.get_branch(branch).commit.sha
            except UnknownObjectException as exc:
                raise ApplicationError(
                    f"branch {branch} not found in {repo.full_name}: set "
                    "SELFHEAL_GITHUB_BASE_BRANCH to the branch the CD system deploys",
                    type="BranchNotFound",
                    non_retryable=True,
                ) from exc

    def _pull(self, repo: Repository, number: int) -> PullRequest:
        with github_call(f"read pull request #{number}", repo.full_name):
            try:
                return repo.get_pull(number)
            except UnknownObjectException as exc:
                raise ApplicationError(
                    f"pull request #{number} not found in {repo.full_name}",
                    type="PullRequestNotFound",
                    non_retryable=True,
                ) from exc

    # --- steps -----------------------------------------------------------------------------

    def _patched(
        self, repo: Repository, base: str, manifest: Manifest, request: PullRequestRequest
    ) -> str:
        where = f"{manifest.path} in {repo.full_name}@{base}"
        try:
            patched = apply_patch(
                manifest.text,
                request.fix.manifest_patch,
                namespace=request.namespace,
                name=request.deployment,
                kind=request.fix.workload_kind,
            )
        except ManifestEditError as exc:
            raise ApplicationError(
                f"cannot edit {where}: {exc}", type="ManifestNotEditable", non_retryable=True
            ) from exc
        if patched == manifest.text:
            raise ApplicationError(
                f"{where} already has the proposed {request.fix.kind.value} change, yet the "
                "cluster differs: git and the cluster disagree, and a person should find out why",
                type="ManifestUnchanged",
                non_retryable=True,
            )
        return patched

    def _open_pull(self, repo: Repository, branch: str, base: str) -> PullRequest | None:
        """Return the open pull request from `branch` into `base`, if one exists."""
        with github_call(f"list pull requests from {branch}", repo.full_name):
            pulls = repo.get_pulls(state="open", head=f"{repo.owner.login}:{branch}", base=base)
            return next(iter(pulls), None)

    def _prepare_branch(self, repo: Repository, branch: str, base_sha: str) -> None:
        """Create `branch` at `base_sha`, or reset it there when it is left over from before.

        A branch that only adds commits on top of the base is this incident's own work from
        an earlier attempt of the activity and is kept; one the base has moved past belongs
        to an earlier, finished incident with the same id.
        """
        with github_call(f"prepare branch {branch}", repo.full_name):
            try:
                ref = repo.get_git_ref(f"heads/{branch}")
            except UnknownObjectException:
                repo.create_git_ref(f"refs/heads/{branch}", base_sha)
                return
            if ref.object.sha != base_sha and repo.compare(base_sha, ref.object.sha).behind_by:
                ref.edit(base_sha, force=True)

    def _write_file(
        self, repo: Repository, branch: str, path: str, content: str, message: str
    ) -> None:
        """Commit `content` to `path` on `branch` unless it is already there."""
        current = read_file(repo, path, branch)
        if current is not None and current.text == content:
            return
        with github_call(f"commit {path} to {branch}", repo.full_name):
            if current is None:
                repo.create_file(path, message, content, branch=branch)
            else:
                repo.update_file(path, message, content, current.sha, branch=branch)

    def _delete_file(self, repo: Repository, branch: str, path: str, message: str) -> None:
        current = read_file(repo, path, branch)
        if current is None:
            return
        with github_call(f"delete {path} on {branch}", repo.full_name):
            repo.delete_file(path, message, current.sha, branch=branch)

    def _create_pull(
        self, repo: Repository, branch: str, base: str, title: str, body: str
    ) -> PullRequest:
        with github_call(f"open a pull request from {branch}", repo.full_name):
            try:
                return repo.create_pull(base=base, head=branch, title=title, body=body)
            except GithubException as exc:
                # A concurrent attempt may have opened it between our lookup and now.
                found = self._open_pull(repo, branch, base) if exc.status == 422 else None
                if found is None:
                    raise
                return found

    def _label(self, repo: Repository, pull: PullRequest, labels: list[str]) -> None:
        have = {label.name for label in pull.labels}
        missing = [label for label in labels if label not in have]
        if missing:
            with github_call(f"label pull request #{pull.number}", repo.full_name):
                pull.add_to_labels(*missing)

    def _comment_once(self, repo: Repository, pull: PullRequest, body: str, tag: str) -> None:
        """Comment on the pull request unless a comment carrying the hidden `tag` exists."""
        with github_call(f"comment on pull request #{pull.number}", repo.full_name):
            if any(tag in (comment.body or "") for comment in pull.get_issue_comments()):
                return
            pull.create_issue_comment(f"{body}\n\n{tag}\n")

    def _files_before(
        self, repo: Repository, merge_sha: str, base: str
    ) -> dict[str, tuple[Manifest, Manifest | None]]:
        """Return, per file the merge changed, its text on `base` now and before the merge."""
        with github_call(f"read merge commit {merge_sha[:12]}", repo.full_name):
            commit = repo.get_commit(merge_sha)
            parent = commit.parents[0].sha
            paths = [changed.filename for changed in commit.files]
        restore: dict[str, tuple[Manifest, Manifest | None]] = {}
        for path in paths:
            now = read_file(repo, path, base)
            merged = read_file(repo, path, merge_sha)
            if now is None or merged is None or now.text != merged.text:
                raise ApplicationError(
                    f"{path} in {repo.full_name}@{base} changed after the fix merged "
                    f"({merge_sha[:12]}); a person must revert it by hand",
                    type="RevertConflict",
                    non_retryable=True,
                )
            restore[path] = (now, read_file(repo, path, parent))
        if not restore:
            raise ApplicationError(
                f"merge commit {merge_sha[:12]} in {repo.full_name} changed no files: nothing to "
                "revert",
                type="NothingToRevert",
                non_retryable=True,
            )
        return restore

    def _state(self, repo: Repository, pull: PullRequest) -> PullRequestState:
        latest: dict[str, str] = {}
        with github_call(f"read reviews of pull request #{pull.number}", repo.full_name):
            for review in pull.get_reviews():
                if review.user is not None and review.state in (
                    "APPROVED",
                    "CHANGES_REQUESTED",
                    "DISMISSED",
                ):
                    latest[review.user.login] = review.state
            author = pull.user.login if pull.user is not None else ""
        return PullRequestState(
            number=pull.number,
            open=pull.state == "open",
            merged=bool(pull.merged),
            approved_by=sorted(user for user, state in latest.items() if state == "APPROVED"),
            changes_requested_by=sorted(
                user for user, state in latest.items() if state == "CHANGES_REQUESTED"
            ),
            author=author,
        )
