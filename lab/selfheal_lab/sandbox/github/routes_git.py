"""GitHub routes over a repository's content: users, repos, branches, refs, git data, contents."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from selfheal_lab.sandbox.github.deps import (
    Caller,
    Hooks,
    Render,
    Repo,
    State,
    json_body,
    paginate,
    required,
)
from selfheal_lab.sandbox.github.history import GitError, signature
from selfheal_lab.sandbox.github.render import Json, Renderer, pull_request_event
from selfheal_lab.sandbox.github.state import ApiError, Repository
from selfheal_lab.sandbox.github.webhooks import WebhookSender

router = APIRouter()


def resolve(repo: Repository, rev: str) -> str:
    """Return the commit a ref, branch or sha names, or GitHub's 404."""
    try:
        return repo.history.resolve(rev)
    except GitError as exc:
        raise ApiError(404, exc.message) from exc


def branch_moved(
    r: Renderer, repo: Repository, branch: str, sender: str, hooks: WebhookSender
) -> None:
    """Tell webhook listeners that open pull requests from `branch` got new commits."""
    for pull in list(repo.pulls.values()):
        if pull.state == "open" and pull.head == branch:
            hooks.send("pull_request", pull_request_event(r, repo, pull, "synchronize", sender))


def decode_base64(text: str) -> bytes:
    """Decode base64 content from a request, or answer GitHub's 422."""
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(422, "content is not valid Base64") from exc


# users and repositories


@router.get("/user")
def get_authenticated_user(login: Caller, r: Render) -> Json:
    return {**r.user(login), "name": login, "email": f"{login}@users.noreply.sandbox"}


@router.get("/users/{login}")
def get_user(login: str, _: Caller, r: Render) -> Json:
    return r.user(login)


@router.get("/repos/{owner}/{repo}")
def get_repo(repo: Repo, r: Render) -> Json:
    return r.repo(repo)


# branches and refs


@router.get("/repos/{owner}/{repo}/branches")
def list_branches(repo: Repo, r: Render, request: Request) -> JSONResponse:
    items = [
        {
            "name": name,
            "commit": {"sha": sha, "url": f"{r.api(repo)}/commits/{sha}"},
            "protected": False,
        }
        for name, sha in repo.history.branches().items()
    ]
    return paginate(request, items)


@router.get("/repos/{owner}/{repo}/branches/{branch:path}")
def get_branch(branch: str, repo: Repo, r: Render) -> Json:
    sha = repo.history.branch_head(branch)
    if sha is None:
        raise ApiError(404, "Branch not found")
    return r.branch(repo, branch, sha)


@router.get("/repos/{owner}/{repo}/git/ref/{ref:path}")
def get_ref(ref: str, repo: Repo, r: Render) -> Json:
    full = f"refs/{ref}"
    sha = repo.history.refs.get(full)
    if sha is None:
        raise ApiError(404, "Not Found")
    return r.ref(repo, full, sha)


@router.get("/repos/{owner}/{repo}/git/refs")
def list_refs(repo: Repo, r: Render, request: Request) -> JSONResponse:
    items = [r.ref(repo, ref, sha) for ref, sha in sorted(repo.history.refs.items())]
    return paginate(request, items)


@router.get("/repos/{owner}/{repo}/git/matching-refs/{prefix:path}")
def matching_refs(prefix: str, repo: Repo, r: Render, request: Request) -> JSONResponse:
    items = [
        r.ref(repo, ref, sha)
        for ref, sha in sorted(repo.history.refs.items())
        if ref.startswith(f"refs/{prefix}")
    ]
    return paginate(request, items)


@router.post("/repos/{owner}/{repo}/git/refs", status_code=201)
async def create_ref(repo: Repo, r: Render, request: Request) -> Json:
    body = await json_body(request)
    required(body, "ref", "sha")
    ref = str(body["ref"])
    if not ref.startswith("refs/") or ref.count("/") < 2:
        raise ApiError(422, "Reference name is not well formed")
    try:
        repo.history.set_ref(ref, str(body["sha"]), create=True)
    except GitError as exc:
        message = "Object does not exist" if exc.kind == "unknown" else exc.message
        raise ApiError(422, message) from exc
    return r.ref(repo, ref, body["sha"])


@router.patch("/repos/{owner}/{repo}/git/refs/{ref:path}")
async def update_ref(
    ref: str, repo: Repo, r: Render, login: Caller, hooks: Hooks, request: Request
) -> Json:
    body = await json_body(request)
    required(body, "sha")
    full = f"refs/{ref}"
    try:
        repo.history.set_ref(full, str(body["sha"]), force=bool(body.get("force", False)))
    except GitError as exc:
        message = "Object does not exist" if "commit" in exc.message.lower() else exc.message
        raise ApiError(422, message) from exc
    if full.startswith("refs/heads/"):
        branch_moved(r, repo, full.removeprefix("refs/heads/"), login, hooks)
    return r.ref(repo, full, body["sha"])


@router.delete("/repos/{owner}/{repo}/git/refs/{ref:path}", status_code=204)
def delete_ref(
    ref: str, repo: Repo, r: Render, state: State, login: Caller, hooks: Hooks
) -> Response:
    branch = ref.removeprefix("heads/") if ref.startswith("heads/") else None
    # GitHub closes the open pull requests whose head branch goes away.
    orphaned = [p for p in repo.pulls.values() if p.state == "open" and p.head == branch]
    if f"refs/{ref}" not in repo.history.refs:
        raise ApiError(422, "Reference does not exist")
    for pull in orphaned:
        state.edit_pull(repo, pull, {"state": "closed"})
    repo.history.delete_ref(f"refs/{ref}")
    for pull in orphaned:
        hooks.send("pull_request", pull_request_event(r, repo, pull, "closed", login))
    return Response(status_code=204)


# git data


@router.get("/repos/{owner}/{repo}/git/commits/{sha}")
def get_git_commit(sha: str, repo: Repo, r: Render) -> Json:
    try:
        return r.git_commit(repo, repo.history.commit(sha))
    except GitError as exc:
        raise ApiError(404, "Not Found") from exc


@router.post("/repos/{owner}/{repo}/git/commits", status_code=201)
async def create_git_commit(repo: Repo, r: Render, login: Caller, request: Request) -> Json:
    body = await json_body(request)
    required(body, "message", "tree")
    author = body.get("author") or {}
    sig = signature(author.get("name") or login, author.get("email"))
    try:
        sha = repo.history.write_commit(
            str(body["tree"]), list(body.get("parents") or []), str(body["message"]), sig
        )
    except GitError as exc:
        raise ApiError(422, exc.message) from exc
    return r.git_commit(repo, repo.history.commit(sha))


@router.get("/repos/{owner}/{repo}/git/trees/{sha}")
def get_tree(sha: str, repo: Repo, r: Render, request: Request) -> Json:
    tree = sha
    if tree not in repo.history.trees:
        tree = repo.history.commit(resolve(repo, sha)).tree
    recursive = request.query_params.get("recursive") not in (None, "", "0", "false")
    return r.tree(repo, tree, recursive)


@router.post("/repos/{owner}/{repo}/git/trees", status_code=201)
async def create_tree(repo: Repo, r: Render, request: Request) -> Json:
    body = await json_body(request)
    history = repo.history
    base_tree = body.get("base_tree")
    if base_tree is not None and base_tree not in history.trees:
        raise ApiError(422, "Invalid tree info", [f"base_tree {base_tree} does not exist"])
    files = {} if base_tree is None else history.files(base_tree)
    for item in body.get("tree") or []:
        path = str(item.get("path", ""))
        if item.get("type", "blob") != "blob":
            raise ApiError(422, "Invalid tree info", ["only blob entries are supported"])
        if "content" in item and item["content"] is not None:
            files[path] = history.write_blob(str(item["content"]).encode())
        elif item.get("sha") is None:
            files.pop(path, None)
        elif item["sha"] in history.blobs:
            files[path] = item["sha"]
        else:
            raise ApiError(422, "Invalid tree info", [f"blob {item['sha']} does not exist"])
    return r.tree(repo, history.write_tree(files), recursive=False)


@router.get("/repos/{owner}/{repo}/git/blobs/{sha}")
def get_blob(sha: str, repo: Repo, r: Render) -> Json:
    data = repo.history.blobs.get(sha)
    if data is None:
        raise ApiError(404, "Not Found")
    return r.blob(repo, sha, data)


@router.post("/repos/{owner}/{repo}/git/blobs", status_code=201)
async def create_blob(repo: Repo, r: Render, request: Request) -> dict[str, str]:
    body = await json_body(request)
    required(body, "content")
    content = str(body["content"])
    data = decode_base64(content) if body.get("encoding") == "base64" else content.encode()
    sha = repo.history.write_blob(data)
    return {"sha": sha, "url": f"{r.api(repo)}/git/blobs/{sha}"}


# commits


@router.get("/repos/{owner}/{repo}/commits")
def list_commits(repo: Repo, r: Render, request: Request) -> JSONResponse:
    start = resolve(repo, request.query_params.get("sha") or repo.default_branch)
    path = request.query_params.get("path")
    items = []
    for sha in repo.history.ancestors(start):
        commit = repo.history.commit(sha)
        if path is not None:
            parent = commit.parents[0] if commit.parents else None
            if path not in repo.history.changes(parent, sha):
                continue
        items.append(r.commit(repo, commit))
    return paginate(request, items)


@router.get("/repos/{owner}/{repo}/commits/{ref:path}")
def get_commit(ref: str, repo: Repo, r: Render) -> Json:
    return r.commit(repo, repo.history.commit(resolve(repo, ref)), with_files=True)


@router.get("/repos/{owner}/{repo}/compare/{basehead:path}")
def compare(basehead: str, repo: Repo, r: Render) -> Json:
    base_rev, sep, head_rev = basehead.partition("...")
    if not sep:
        raise ApiError(404, "Not Found")
    base, head = resolve(repo, base_rev), resolve(repo, head_rev)
    history = repo.history
    fork = history.merge_base(base, head)
    ahead = history.commits_between(base, head)
    behind = history.commits_between(head, base)
    status = "identical" if base == head else "ahead" if not behind else "diverged"
    if not ahead and behind:
        status = "behind"
    files = r.file_changes(repo, fork, head)
    api = r.api(repo)
    return {
        "url": f"{api}/compare/{basehead}",
        "html_url": f"{r.html(repo)}/compare/{basehead}",
        "permalink_url": f"{r.html(repo)}/compare/{basehead}",
        "diff_url": f"{r.html(repo)}/compare/{basehead}.diff",
        "patch_url": f"{r.html(repo)}/compare/{basehead}.patch",
        "base_commit": r.commit(repo, history.commit(base)),
        "merge_base_commit": None if fork is None else r.commit(repo, history.commit(fork)),
        "status": status,
        "ahead_by": len(ahead),
        "behind_by": len(behind),
        "total_commits": len(ahead),
        "commits": [r.commit(repo, c) for c in ahead],
        "files": files,
    }


# contents


@router.get("/repos/{owner}/{repo}/contents")
def list_root(repo: Repo, r: Render, request: Request) -> Any:
    return get_contents("", repo, r, request)


@router.get("/repos/{owner}/{repo}/contents/{path:path}")
def get_contents(path: str, repo: Repo, r: Render, request: Request) -> Any:
    ref = request.query_params.get("ref") or repo.default_branch
    history = repo.history
    commit = resolve(repo, ref)
    path = path.strip("/")
    blob = history.files_at(commit).get(path)
    if blob is not None:
        return r.content_file(repo, path, blob, ref, history.blobs[blob])
    prefix = f"{path}/" if path else ""
    listing: dict[str, Json] = {}
    for entry_path, entry in history.walk(history.commit(commit).tree):
        if not entry_path.startswith(prefix) or "/" in entry_path[len(prefix) :]:
            continue
        if entry.type == "blob":
            listing[entry_path] = r.content_file(repo, entry_path, entry.sha, ref, None)
        else:
            listing[entry_path] = r.directory_entry(repo, entry_path, entry.sha, ref)
    if not listing:
        raise ApiError(404, "Not Found")
    return list(listing.values())


@router.put("/repos/{owner}/{repo}/contents/{path:path}")
async def put_contents(
    path: str, repo: Repo, r: Render, login: Caller, hooks: Hooks, request: Request
) -> JSONResponse:
    body = await json_body(request)
    required(body, "message")
    if "content" not in body:
        required(body, "content")
    branch = str(body.get("branch") or repo.default_branch)
    history = repo.history
    head = history.branch_head(branch)
    if head is None:
        raise ApiError(404, f"Branch {branch} not found")
    existing = history.files_at(head).get(path)
    given_sha = body.get("sha")
    if existing is not None and not given_sha:
        raise ApiError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
    if existing is not None and given_sha != existing:
        raise ApiError(409, f"{path} does not match {given_sha}")
    author = body.get("author") or body.get("committer") or {}
    sig = signature(author.get("name") or login, author.get("email"))
    data = decode_base64(str(body["content"]))
    sha = history.commit_files(branch, {path: data}, str(body["message"]), sig)
    branch_moved(r, repo, branch, login, hooks)
    blob = history.files_at(sha)[path]
    payload = {
        "content": r.content_file(repo, path, blob, branch, None),
        "commit": r.git_commit(repo, history.commit(sha)),
    }
    return JSONResponse(payload, status_code=200 if existing is not None else 201)


@router.delete("/repos/{owner}/{repo}/contents/{path:path}")
async def delete_contents(
    path: str, repo: Repo, r: Render, login: Caller, hooks: Hooks, request: Request
) -> Json:
    body = await json_body(request)
    required(body, "message", "sha")
    branch = str(body.get("branch") or repo.default_branch)
    history = repo.history
    head = history.branch_head(branch)
    if head is None:
        raise ApiError(404, f"Branch {branch} not found")
    existing = history.files_at(head).get(path)
    if existing is None:
        raise ApiError(404, "Not Found")
    if body["sha"] != existing:
        raise ApiError(409, f"{path} does not match {body['sha']}")
    sha = history.commit_files(branch, {path: None}, str(body["message"]), signature(login))
    branch_moved(r, repo, branch, login, hooks)
    return {"content": None, "commit": r.git_commit(repo, history.commit(sha))}
