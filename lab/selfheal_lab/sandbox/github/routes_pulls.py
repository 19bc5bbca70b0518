"""GitHub routes for collaboration: pull requests, merges, reviews, issue comments, labels."""

from __future__ import annotations

import html
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

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
from selfheal_lab.sandbox.github.render import Json, pull_request_event, review_event
from selfheal_lab.sandbox.github.state import ApiError, PullRequest, Repository

router = APIRouter()


# pull requests


@router.get("/repos/{owner}/{repo}/pulls")
def list_pulls(repo: Repo, r: Render, request: Request) -> JSONResponse:
    query = request.query_params
    state = query.get("state", "open")
    head = query.get("head")
    base = query.get("base")
    pulls = list(repo.pulls.values())
    if state != "all":
        pulls = [p for p in pulls if p.state == state]
    # GitHub only honours `head` in the form owner:branch and ignores it otherwise.
    if head and ":" in head:
        owner, _, branch = head.partition(":")
        pulls = [p for p in pulls if owner.lower() == repo.owner.lower() and p.head == branch]
    if base:
        pulls = [p for p in pulls if p.base == base]
    sort = query.get("sort", "created")
    descending = query.get("direction", "desc" if sort == "created" else "asc") == "desc"
    key = "updated_at" if sort in ("updated", "popularity", "long-running") else "created_at"
    pulls.sort(key=lambda p: (getattr(p, key), p.number), reverse=descending)
    return paginate(request, [r.pull(repo, p) for p in pulls])


@router.post("/repos/{owner}/{repo}/pulls", status_code=201)
async def create_pull(
    repo: Repo, r: Render, state: State, login: Caller, hooks: Hooks, request: Request
) -> Json:
    body = await json_body(request)
    required(body, "head", "base")
    if not body.get("title") and not body.get("issue"):
        required(body, "title")
    pull = state.open_pull(
        repo,
        login,
        title=str(body.get("title") or ""),
        head=str(body["head"]),
        base=str(body["base"]),
        body=str(body.get("body") or ""),
        draft=bool(body.get("draft", False)),
    )
    hooks.send("pull_request", pull_request_event(r, repo, pull, "opened", login))
    return r.pull(repo, pull)


@router.get("/repos/{owner}/{repo}/pulls/{number}")
def get_pull(number: int, repo: Repo, r: Render, state: State) -> Json:
    return r.pull(repo, state.pull(repo, number))


@router.patch("/repos/{owner}/{repo}/pulls/{number}")
async def edit_pull(
    number: int,
    repo: Repo,
    r: Render,
    state: State,
    login: Caller,
    hooks: Hooks,
    request: Request,
) -> Json:
    body = await json_body(request)
    pull = state.pull(repo, number)
    before = pull.state
    state.edit_pull(repo, pull, body)
    if before != pull.state:
        action = "closed" if pull.state == "closed" else "reopened"
        hooks.send("pull_request", pull_request_event(r, repo, pull, action, login))
    return r.pull(repo, pull)


def _compared_base(repo: Repository, pull: PullRequest) -> str:
    """What a pull request is compared with: the base it merged onto, else its branch now."""
    if pull.merged:
        return pull.base_sha
    return repo.history.branch_head(pull.base) or pull.base_sha


@router.get("/repos/{owner}/{repo}/pulls/{number}/files")
def list_pull_files(
    number: int, repo: Repo, r: Render, state: State, request: Request
) -> JSONResponse:
    pull = state.pull(repo, number)
    head = repo.head_of(pull)
    base = _compared_base(repo, pull)
    return paginate(request, r.file_changes(repo, repo.history.merge_base(base, head), head))


@router.get("/repos/{owner}/{repo}/pulls/{number}/commits")
def list_pull_commits(
    number: int, repo: Repo, r: Render, state: State, request: Request
) -> JSONResponse:
    pull = state.pull(repo, number)
    commits = repo.history.commits_between(_compared_base(repo, pull), repo.head_of(pull))
    return paginate(request, [r.commit(repo, c) for c in commits])


@router.get("/repos/{owner}/{repo}/pulls/{number}/merge")
def is_merged(number: int, repo: Repo, state: State) -> Response:
    if state.pull(repo, number).merged:
        return Response(status_code=204)
    raise ApiError(404, "Not Found")


@router.put("/repos/{owner}/{repo}/pulls/{number}/merge")
async def merge_pull(
    number: int,
    repo: Repo,
    r: Render,
    state: State,
    login: Caller,
    hooks: Hooks,
    request: Request,
) -> Json:
    body = await json_body(request)
    pull = state.pull(repo, number)
    sha = state.merge(
        repo,
        pull,
        login,
        method=str(body.get("merge_method") or "merge"),
        title=body.get("commit_title"),
        message=body.get("commit_message"),
        expected_sha=body.get("sha"),
    )
    hooks.send("pull_request", pull_request_event(r, repo, pull, "closed", login))
    return {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}


# reviews


@router.get("/repos/{owner}/{repo}/pulls/{number}/reviews")
def list_reviews(
    number: int, repo: Repo, r: Render, state: State, request: Request
) -> JSONResponse:
    state.pull(repo, number)
    reviews = [v for v in repo.reviews if v.number == number]
    return paginate(request, [r.review(repo, v) for v in reviews])


@router.get("/repos/{owner}/{repo}/pulls/{number}/reviews/{review_id}")
def get_review(number: int, review_id: int, repo: Repo, r: Render) -> Json:
    for review in repo.reviews:
        if review.number == number and review.id == review_id:
            return r.review(repo, review)
    raise ApiError(404, "Not Found")


@router.post("/repos/{owner}/{repo}/pulls/{number}/reviews")
async def create_review(
    number: int,
    repo: Repo,
    r: Render,
    state: State,
    login: Caller,
    hooks: Hooks,
    request: Request,
) -> Json:
    body = await json_body(request)
    pull = state.pull(repo, number)
    review = state.review(repo, pull, login, body.get("event"), str(body.get("body") or ""))
    if review.state != "PENDING":
        hooks.send("pull_request_review", review_event(r, repo, pull, review))
    return r.review(repo, review)


# issues: a pull request is an issue for comments and labels


@router.get("/repos/{owner}/{repo}/issues/{number}")
def get_issue(number: int, repo: Repo, r: Render, state: State) -> Json:
    return r.issue(repo, state.pull(repo, number))


@router.get("/repos/{owner}/{repo}/issues/{number}/comments")
def list_comments(
    number: int, repo: Repo, r: Render, state: State, request: Request
) -> JSONResponse:
    state.pull(repo, number)
    comments = [c for c in repo.comments if c.number == number]
    return paginate(request, [r.comment(repo, c) for c in comments])


@router.post("/repos/{owner}/{repo}/issues/{number}/comments", status_code=201)
async def create_comment(
    number: int, repo: Repo, r: Render, state: State, login: Caller, request: Request
) -> Json:
    body = await json_body(request)
    required(body, "body")
    return r.comment(repo, state.comment(repo, number, login, str(body["body"])))


def _label_names(body: Any) -> list[str]:
    names = body.get("labels", []) if isinstance(body, dict) else body
    if not isinstance(names, list):
        raise ApiError(422, "Validation Failed", [{"field": "labels", "code": "invalid"}])
    return [n["name"] if isinstance(n, dict) else str(n) for n in names]


@router.get("/repos/{owner}/{repo}/issues/{number}/labels")
def list_issue_labels(
    number: int, repo: Repo, r: Render, state: State, request: Request
) -> JSONResponse:
    pull = state.pull(repo, number)
    return paginate(request, [r.label(repo, repo.labels[n.lower()]) for n in pull.labels])


@router.post("/repos/{owner}/{repo}/issues/{number}/labels")
async def add_issue_labels(
    number: int, repo: Repo, r: Render, state: State, request: Request
) -> list[Json]:
    names = _label_names(await json_body(request))
    return [r.label(repo, label) for label in state.add_labels(repo, number, names)]


@router.put("/repos/{owner}/{repo}/issues/{number}/labels")
async def set_issue_labels(
    number: int, repo: Repo, r: Render, state: State, request: Request
) -> list[Json]:
    names = _label_names(await json_body(request))
    state.pull(repo, number).labels.clear()
    return [r.label(repo, label) for label in state.add_labels(repo, number, names)]


@router.delete("/repos/{owner}/{repo}/issues/{number}/labels/{name}")
def remove_issue_label(number: int, name: str, repo: Repo, r: Render, state: State) -> list[Json]:
    pull = state.pull(repo, number)
    match = next((n for n in pull.labels if n.lower() == name.lower()), None)
    if match is None:
        raise ApiError(404, "Label does not exist")
    pull.labels.remove(match)
    return [r.label(repo, repo.labels[n.lower()]) for n in pull.labels]


@router.get("/repos/{owner}/{repo}/labels")
def list_labels(repo: Repo, r: Render, request: Request) -> JSONResponse:
    return paginate(request, [r.label(repo, label) for label in repo.labels.values()])


@router.get("/repos/{owner}/{repo}/labels/{name}")
def get_label(name: str, repo: Repo, r: Render) -> Json:
    label = repo.labels.get(name.lower())
    if label is None:
        raise ApiError(404, "Not Found")
    return r.label(repo, label)


@router.post("/repos/{owner}/{repo}/labels", status_code=201)
async def create_label(repo: Repo, r: Render, state: State, request: Request) -> Json:
    body = await json_body(request)
    required(body, "name")
    if str(body["name"]).lower() in repo.labels:
        raise ApiError(
            422,
            "Validation Failed",
            [{"resource": "Label", "code": "already_exists", "field": "name"}],
        )
    label = state.label(
        repo, str(body["name"]), str(body.get("color") or "ededed"), body.get("description")
    )
    return r.label(repo, label)


# a page for people following a pull request's html_url


@router.get("/{owner}/{name}/pull/{number}", response_class=HTMLResponse)
def pull_page(owner: str, name: str, number: int, r: Render, state: State) -> str:
    repo = state.repo(owner, name)
    pull = state.pull(repo, number)
    data = r.pull(repo, pull)
    base = pull.base_sha if pull.merged else repo.history.branch_head(pull.base) or pull.base_sha
    head = repo.head_of(pull)
    files = r.file_changes(repo, repo.history.merge_base(base, head), head)
    reviews = [v for v in repo.reviews if v.number == number]
    comments = [c for c in repo.comments if c.number == number]
    status = "merged" if pull.merged else pull.state
    parts = [
        f"<h1>{html.escape(pull.title)} <small>#{number} ({status})</small></h1>",
        f"<p>{html.escape(pull.user)} wants to merge <code>{html.escape(pull.head)}</code> "
        f"into <code>{html.escape(pull.base)}</code>; labels: "
        f"{html.escape(', '.join(pull.labels) or 'none')}; "
        f"mergeable: {data['mergeable_state']}</p>",
        f"<pre>{html.escape(pull.body)}</pre>",
        *(
            f"<h3>{html.escape(f['filename'])}</h3><pre>{html.escape(f['patch'])}</pre>"
            for f in files
        ),
        *(f"<p><b>{html.escape(v.user)}</b> {v.state}: {html.escape(v.body)}</p>" for v in reviews),
        *(f"<p><b>{html.escape(c.user)}</b>: {html.escape(c.body)}</p>" for c in comments),
    ]
    return "<html><body>" + "\n".join(parts) + "</body></html>"
