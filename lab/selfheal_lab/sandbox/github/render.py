"""GitHub's JSON shapes for the stand-in's objects; every URL points back at the stand-in."""

from __future__ import annotations

import base64
import difflib
from datetime import datetime
from typing import Any

from selfheal_lab.sandbox.github.history import Commit, Signature
from selfheal_lab.sandbox.github.state import (
    GitHubState,
    IssueComment,
    Label,
    PullRequest,
    Repository,
    Review,
)

Json = dict[str, Any]


def iso(moment: datetime | None) -> str | None:
    """Return a timestamp the way GitHub writes it (`2024-01-01T00:00:00Z`)."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Renderer:
    """Turns state into GitHub's JSON, with URLs under `base` (the URL clients reached us at)."""

    def __init__(self, base: str, state: GitHubState) -> None:
        self.base = base.rstrip("/")
        self.state = state

    def api(self, repo: Repository) -> str:
        return f"{self.base}/repos/{repo.full_name}"

    def html(self, repo: Repository) -> str:
        return f"{self.base}/{repo.full_name}"

    def user(self, login: str) -> Json:
        url = f"{self.base}/users/{login}"
        return {
            "login": login,
            "id": self.state.user_id(login),
            "node_id": f"U_{login}",
            "type": "Bot" if login.endswith("-bot") or login.endswith("[bot]") else "User",
            "site_admin": False,
            "url": url,
            "html_url": f"{self.base}/{login}",
            "avatar_url": f"{self.base}/avatars/{login}",
            "repos_url": f"{url}/repos",
        }

    def repo(self, repo: Repository) -> Json:
        api = self.api(repo)
        return {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": self.user(repo.owner),
            "private": True,
            "visibility": "private",
            "fork": False,
            "archived": False,
            "disabled": False,
            "default_branch": repo.default_branch,
            "url": api,
            "html_url": self.html(repo),
            "clone_url": f"{self.html(repo)}.git",
            "pulls_url": f"{api}/pulls{{/number}}",
            "issues_url": f"{api}/issues{{/number}}",
            "branches_url": f"{api}/branches{{/branch}}",
            "contents_url": f"{api}/contents/{{+path}}",
            "permissions": {
                "admin": True,
                "maintain": True,
                "push": True,
                "triage": True,
                "pull": True,
            },
            "allow_squash_merge": True,
            "allow_merge_commit": True,
            "allow_rebase_merge": True,
            "delete_branch_on_merge": False,
        }

    # git data

    def signature(self, sig: Signature) -> Json:
        return {"name": sig.name, "email": sig.email, "date": iso(sig.date)}

    def git_commit(self, repo: Repository, commit: Commit) -> Json:
        api = self.api(repo)
        return {
            "sha": commit.sha,
            "node_id": f"C_{commit.sha}",
            "url": f"{api}/git/commits/{commit.sha}",
            "html_url": f"{self.html(repo)}/commit/{commit.sha}",
            "author": self.signature(commit.author),
            "committer": self.signature(commit.committer),
            "message": commit.message,
            "tree": {"sha": commit.tree, "url": f"{api}/git/trees/{commit.tree}"},
            "parents": [
                {
                    "sha": p,
                    "url": f"{api}/git/commits/{p}",
                    "html_url": f"{self.html(repo)}/commit/{p}",
                }
                for p in commit.parents
            ],
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
            },
        }

    def commit(self, repo: Repository, commit: Commit, with_files: bool = False) -> Json:
        api = self.api(repo)
        body: Json = {
            "sha": commit.sha,
            "node_id": f"C_{commit.sha}",
            "url": f"{api}/commits/{commit.sha}",
            "html_url": f"{self.html(repo)}/commit/{commit.sha}",
            "comments_url": f"{api}/commits/{commit.sha}/comments",
            "commit": {
                **self.git_commit(repo, commit),
                "url": f"{api}/git/commits/{commit.sha}",
                "comment_count": 0,
            },
            "author": self.user(commit.author.name),
            "committer": self.user(commit.committer.name),
            "parents": [
                {"sha": p, "url": f"{api}/commits/{p}", "html_url": f"{self.html(repo)}/commit/{p}"}
                for p in commit.parents
            ],
        }
        if with_files:
            parent = commit.parents[0] if commit.parents else None
            body["files"] = self.file_changes(repo, parent, commit.sha)
            body["stats"] = {
                key: sum(f[key] for f in body["files"]) for key in ("additions", "deletions")
            }
            body["stats"]["total"] = body["stats"]["additions"] + body["stats"]["deletions"]
        return body

    def file_changes(self, repo: Repository, old: str | None, new: str) -> list[Json]:
        """Return GitHub's per-file diff entries (status, counts, patch) from `old` to `new`."""
        history = repo.history
        before = {} if old is None else history.files_at(old)
        out: list[Json] = []
        for path, blob in history.changes(old, new).items():
            old_blob = before.get(path)
            old_text = "" if old_blob is None else history.blobs[old_blob].decode(errors="replace")
            new_text = "" if blob is None else history.blobs[blob].decode(errors="replace")
            patch = unified_patch(old_text, new_text)
            added = sum(1 for line in patch.splitlines() if line.startswith("+"))
            removed = sum(1 for line in patch.splitlines() if line.startswith("-"))
            status = "added" if old_blob is None else "removed" if blob is None else "modified"
            out.append(
                {
                    "sha": blob or old_blob,
                    "filename": path,
                    "status": status,
                    "additions": added,
                    "deletions": removed,
                    "changes": added + removed,
                    "patch": patch,
                    "blob_url": f"{self.html(repo)}/blob/{new}/{path}",
                    "raw_url": f"{self.html(repo)}/raw/{new}/{path}",
                    "contents_url": f"{self.api(repo)}/contents/{path}?ref={new}",
                }
            )
        return out

    def ref(self, repo: Repository, ref: str, sha: str) -> Json:
        api = self.api(repo)
        return {
            "ref": ref,
            "node_id": f"REF_{ref}",
            "url": f"{api}/git/{ref}",
            "object": {"sha": sha, "type": "commit", "url": f"{api}/git/commits/{sha}"},
        }

    def branch(self, repo: Repository, name: str, sha: str) -> Json:
        api = self.api(repo)
        commit = self.commit(repo, repo.history.commit(sha))
        return {
            "name": name,
            "commit": commit,
            "protected": name == repo.default_branch and repo.required_approvals > 0,
            "_links": {"self": f"{api}/branches/{name}", "html": f"{self.html(repo)}/tree/{name}"},
            "protection_url": f"{api}/branches/{name}/protection",
        }

    def tree(self, repo: Repository, sha: str, recursive: bool) -> Json:
        api = self.api(repo)
        history = repo.history
        listed = history.walk(sha) if recursive else [(e.name, e) for e in history.trees[sha]]
        entries = []
        for path, entry in listed:
            item: Json = {
                "path": path,
                "mode": entry.mode,
                "type": entry.type,
                "sha": entry.sha,
                "url": f"{api}/git/{entry.type}s/{entry.sha}",
            }
            if entry.type == "blob":
                item["size"] = len(history.blobs[entry.sha])
            entries.append(item)
        return {"sha": sha, "url": f"{api}/git/trees/{sha}", "tree": entries, "truncated": False}

    def blob(self, repo: Repository, sha: str, data: bytes) -> Json:
        return {
            "sha": sha,
            "node_id": f"B_{sha}",
            "size": len(data),
            "url": f"{self.api(repo)}/git/blobs/{sha}",
            "content": base64.b64encode(data).decode(),
            "encoding": "base64",
        }

    def content_file(
        self, repo: Repository, path: str, blob_sha: str, ref: str, data: bytes | None
    ) -> Json:
        """Return a `contents` entry; the file's base64 content is included when `data` is."""
        api = self.api(repo)
        name = path.rsplit("/", 1)[-1]
        body: Json = {
            "type": "file",
            "name": name,
            "path": path,
            "sha": blob_sha,
            "size": len(repo.history.blobs[blob_sha]),
            "url": f"{api}/contents/{path}?ref={ref}",
            "html_url": f"{self.html(repo)}/blob/{ref}/{path}",
            "git_url": f"{api}/git/blobs/{blob_sha}",
            "download_url": f"{self.html(repo)}/raw/{ref}/{path}",
            "_links": {
                "self": f"{api}/contents/{path}?ref={ref}",
                "git": f"{api}/git/blobs/{blob_sha}",
                "html": f"{self.html(repo)}/blob/{ref}/{path}",
            },
        }
        if data is not None:
            encoded = base64.b64encode(data).decode()
            # GitHub wraps base64 content at 60 characters.
            body["content"] = "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60))
            body["encoding"] = "base64"
        return body

    def directory_entry(self, repo: Repository, path: str, tree_sha: str, ref: str) -> Json:
        api = self.api(repo)
        return {
            "type": "dir",
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": tree_sha,
            "size": 0,
            "url": f"{api}/contents/{path}?ref={ref}",
            "html_url": f"{self.html(repo)}/tree/{ref}/{path}",
            "git_url": f"{api}/git/trees/{tree_sha}",
            "download_url": None,
        }

    # collaboration

    def label(self, repo: Repository, label: Label) -> Json:
        return {
            "id": label.id,
            "node_id": f"L_{label.id}",
            "url": f"{self.api(repo)}/labels/{label.name}",
            "name": label.name,
            "color": label.color,
            "description": label.description,
            "default": False,
        }

    def _side(self, repo: Repository, branch: str, sha: str) -> Json:
        return {
            "label": f"{repo.owner}:{branch}",
            "ref": branch,
            "sha": sha,
            "user": self.user(repo.owner),
            "repo": self.repo(repo),
        }

    def pull(self, repo: Repository, pull: PullRequest) -> Json:
        api = self.api(repo)
        url = f"{api}/pulls/{pull.number}"
        html = f"{self.html(repo)}/pull/{pull.number}"
        head = repo.head_of(pull)
        base_sha = repo.history.branch_head(pull.base) or pull.base_sha
        mergeable = None if pull.state != "open" else repo.mergeable(pull)
        changes = self.file_changes(repo, repo.history.merge_base(base_sha, head), head)
        commits = repo.history.commits_between(base_sha, head) if not pull.merged else []
        if pull.state != "open":
            mergeable_state = "unknown"
        elif not mergeable:
            mergeable_state = "dirty"
        elif len(self.state.approvals(repo, pull) - {pull.user}) < repo.required_approvals:
            mergeable_state = "blocked"
        else:
            mergeable_state = "clean"
        return {
            "id": pull.id,
            "node_id": f"PR_{pull.id}",
            "number": pull.number,
            "url": url,
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": f"{api}/issues/{pull.number}",
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}",
            "comments_url": f"{api}/issues/{pull.number}/comments",
            "statuses_url": f"{api}/statuses/{head}",
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "body": pull.body,
            "user": self.user(pull.user),
            "labels": [self.label(repo, repo.labels[name.lower()]) for name in pull.labels],
            "draft": pull.draft,
            "created_at": iso(pull.created_at),
            "updated_at": iso(pull.updated_at),
            "closed_at": iso(pull.closed_at),
            "merged_at": iso(pull.merged_at),
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": self._side(repo, pull.head, head),
            "base": self._side(repo, pull.base, base_sha),
            "author_association": "OWNER" if pull.user == repo.owner else "CONTRIBUTOR",
            "merged": pull.merged,
            "mergeable": mergeable,
            "rebaseable": mergeable,
            "mergeable_state": mergeable_state,
            "merged_by": None if pull.merged_by is None else self.user(pull.merged_by),
            "comments": sum(1 for c in repo.comments if c.number == pull.number),
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": len(commits),
            "additions": sum(c["additions"] for c in changes),
            "deletions": sum(c["deletions"] for c in changes),
            "changed_files": len(changes),
            "_links": {
                "self": {"href": url},
                "html": {"href": html},
                "issue": {"href": f"{api}/issues/{pull.number}"},
                "comments": {"href": f"{api}/issues/{pull.number}/comments"},
                "review_comments": {"href": f"{url}/comments"},
                "commits": {"href": f"{url}/commits"},
                "statuses": {"href": f"{api}/statuses/{head}"},
            },
        }

    def issue(self, repo: Repository, pull: PullRequest) -> Json:
        """Return a pull request seen as an issue, as `GET /issues/{n}` does."""
        api = self.api(repo)
        return {
            "id": pull.id,
            "node_id": f"I_{pull.id}",
            "number": pull.number,
            "url": f"{api}/issues/{pull.number}",
            "html_url": f"{self.html(repo)}/pull/{pull.number}",
            "repository_url": api,
            "labels_url": f"{api}/issues/{pull.number}/labels{{/name}}",
            "comments_url": f"{api}/issues/{pull.number}/comments",
            "events_url": f"{api}/issues/{pull.number}/events",
            "title": pull.title,
            "body": pull.body,
            "user": self.user(pull.user),
            "labels": [self.label(repo, repo.labels[name.lower()]) for name in pull.labels],
            "state": pull.state,
            "state_reason": None,
            "locked": False,
            "assignee": None,
            "assignees": [],
            "comments": sum(1 for c in repo.comments if c.number == pull.number),
            "created_at": iso(pull.created_at),
            "updated_at": iso(pull.updated_at),
            "closed_at": iso(pull.closed_at),
            "author_association": "OWNER" if pull.user == repo.owner else "CONTRIBUTOR",
            "pull_request": {
                "url": f"{api}/pulls/{pull.number}",
                "html_url": f"{self.html(repo)}/pull/{pull.number}",
                "diff_url": f"{self.html(repo)}/pull/{pull.number}.diff",
                "patch_url": f"{self.html(repo)}/pull/{pull.number}.patch",
                "merged_at": iso(pull.merged_at),
            },
        }

    def review(self, repo: Repository, review: Review) -> Json:
        pull_url = f"{self.api(repo)}/pulls/{review.number}"
        html = f"{self.html(repo)}/pull/{review.number}#pullrequestreview-{review.id}"
        return {
            "id": review.id,
            "node_id": f"PRR_{review.id}",
            "user": self.user(review.user),
            "body": review.body,
            "state": review.state,
            "html_url": html,
            "pull_request_url": pull_url,
            "commit_id": review.commit_id,
            "submitted_at": iso(review.submitted_at),
            "author_association": "OWNER" if review.user == repo.owner else "COLLABORATOR",
            "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
        }

    def comment(self, repo: Repository, comment: IssueComment) -> Json:
        api = self.api(repo)
        return {
            "id": comment.id,
            "node_id": f"IC_{comment.id}",
            "url": f"{api}/issues/comments/{comment.id}",
            "html_url": f"{self.html(repo)}/pull/{comment.number}#issuecomment-{comment.id}",
            "issue_url": f"{api}/issues/{comment.number}",
            "body": comment.body,
            "user": self.user(comment.user),
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at),
            "author_association": "OWNER" if comment.user == repo.owner else "COLLABORATOR",
        }


def unified_patch(old: str, new: str) -> str:
    """Return a diff of two texts as GitHub shows it in `patch`: hunks only, no file header."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), n=3, lineterm=""
    )
    body = [line.rstrip("\n") for line in list(lines)[2:]]
    return "\n".join(body)


def pull_request_event(
    r: Renderer, repo: Repository, pull: PullRequest, action: str, sender: str
) -> Json:
    """Return the `pull_request` webhook payload GitHub sends for `action`."""
    return {
        "action": action,
        "number": pull.number,
        "pull_request": r.pull(repo, pull),
        "repository": r.repo(repo),
        "sender": r.user(sender),
    }


def review_event(r: Renderer, repo: Repository, pull: PullRequest, review: Review) -> Json:
    """Return the `pull_request_review` webhook payload for a submitted review."""
    payload = r.review(repo, review)
    # Webhooks spell review states in lower case, unlike the REST API.
    payload["state"] = review.state.lower()
    return {
        "action": "submitted",
        "review": payload,
        "pull_request": r.pull(repo, pull),
        "repository": r.repo(repo),
        "sender": r.user(review.user),
    }
