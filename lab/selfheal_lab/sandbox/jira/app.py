"""The JIRA stand-in's ASGI app: the REST v2 subset atlassian-python-api uses, with faults."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from selfheal_lab.sandbox.github.faults import FaultMiddleware, Faults
from selfheal_lab.sandbox.jira import workflow
from selfheal_lab.sandbox.jira.jql import JqlError, compile_jql
from selfheal_lab.sandbox.jira.render import Json, Renderer, stamp
from selfheal_lab.sandbox.jira.state import JiraError, JiraState

router = APIRouter(prefix="/rest/api/2")


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    """Return the JSON JIRA sends with an error status."""
    default = {
        401: "You are not authenticated. Authentication required to perform this operation.",
        403: "You do not have the permission to perform this operation.",
        404: "Not Found",
        429: "Rate limit exceeded.",
        503: "Service Unavailable",
    }.get(status, "Internal server error")
    return {"errorMessages": [message or default], "errors": {}}


def jira_state(request: Request) -> JiraState:
    """Return the stand-in's state attached to the app."""
    state: JiraState = request.app.state.jira
    return state


def renderer(request: Request) -> Renderer:
    """Return a renderer whose links use the base URL this request was addressed to."""
    return Renderer(str(request.base_url), jira_state(request))


def caller(request: Request) -> str:
    """Return the username behind the request's basic (or bearer) credentials; 401 without."""
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and credential:
        try:
            username = base64.b64decode(credential).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise JiraError(401, [error_body(401)["errorMessages"][0]]) from exc
        if username:
            return username
    if scheme.lower() == "bearer" and credential.strip():
        default: str = request.app.state.default_user
        return default
    raise JiraError(401, [error_body(401)["errorMessages"][0]])


Caller = Annotated[str, Depends(caller)]
State = Annotated[JiraState, Depends(jira_state)]
Render = Annotated[Renderer, Depends(renderer)]


async def json_body(request: Request) -> dict[str, Any]:
    """Return the request's JSON object, or JIRA's 400."""
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else {}
    except json.JSONDecodeError as exc:
        raise JiraError(400, ["Unexpected character in the request body: not JSON."]) from exc
    if not isinstance(body, dict):
        raise JiraError(400, ["The request body must be a JSON object."])
    return body


@router.get("/serverInfo")
def server_info(r: Render) -> Json:
    return {
        "baseUrl": r.base,
        "version": "9.12.2",
        "versionNumbers": [9, 12, 2],
        "deploymentType": "Server",
        "buildNumber": 9120002,
        "buildDate": "2024-01-01T00:00:00.000+0000",
        "serverTime": stamp(datetime.now(UTC)),
        "scmInfo": "selfheal-sandbox",
        "serverTitle": "selfheal JIRA sandbox",
    }


@router.get("/myself")
def myself(login: Caller, r: Render) -> Json | None:
    return r.user(login)


@router.get("/project")
def list_projects(_: Caller, state: State, r: Render) -> list[Json]:
    return [r.project(p) for p in state.projects.values()]


@router.get("/project/{key}")
def get_project(key: str, _: Caller, state: State, r: Render) -> Json:
    return r.project(state.project(key))


@router.get("/field")
def list_fields(_: Caller, r: Render) -> list[Json]:
    return r.fields()


@router.get("/status")
def list_statuses(_: Caller, r: Render) -> list[Json]:
    return [r.status(name) for name in workflow.STATUSES]


@router.post("/issue", status_code=201)
async def create_issue(login: Caller, state: State, r: Render, request: Request) -> Json:
    body = await json_body(request)
    issue = state.create(dict(body.get("fields") or {}), login)
    if body.get("update"):
        state.update(issue, {"update": body["update"]}, login)
    return {"id": str(issue.id), "key": issue.key, "self": f"{r.api}/issue/{issue.id}"}


@router.get("/issue/{key}")
def get_issue(key: str, _: Caller, state: State, r: Render, request: Request) -> Json:
    query = request.query_params
    return r.issue(state.issue(key), query.get("fields"), query.get("expand") or "")


@router.put("/issue/{key}", status_code=204)
async def edit_issue(key: str, login: Caller, state: State, request: Request) -> Response:
    state.update(state.issue(key), await json_body(request), login)
    return Response(status_code=204)


@router.get("/issue/{key}/transitions")
def get_transitions(key: str, _: Caller, state: State, r: Render) -> Json:
    return {"expand": "transitions", "transitions": r.transitions(state.issue(key))}


@router.post("/issue/{key}/transitions", status_code=204)
async def do_transition(key: str, login: Caller, state: State, request: Request) -> Response:
    state.transition(state.issue(key), await json_body(request), login)
    return Response(status_code=204)


@router.get("/issue/{key}/comment")
def list_comments(key: str, _: Caller, state: State, r: Render) -> Json:
    return r.comments(state.issue(key))


@router.get("/issue/{key}/comment/{comment_id}")
def get_comment(key: str, comment_id: str, _: Caller, state: State, r: Render) -> Json:
    issue = state.issue(key)
    for comment in issue.comments:
        if str(comment.id) == comment_id:
            return r.comment(issue, comment)
    raise JiraError(404, ["Can not find a comment for the id: " + comment_id])


@router.post("/issue/{key}/comment", status_code=201)
async def add_comment(key: str, login: Caller, state: State, r: Render, request: Request) -> Json:
    issue = state.issue(key)
    body = await json_body(request)
    return r.comment(issue, state.comment(issue, login, str(body.get("body") or "")))


def _search(state: JiraState, r: Renderer, params: dict[str, Any]) -> Json:
    try:
        query = compile_jql(str(params.get("jql") or ""), state)
    except JqlError as exc:
        raise JiraError(400, [str(exc)]) from exc
    fields = params.get("fields")
    if isinstance(fields, list):
        fields = ",".join(fields)
    start = int(params.get("startAt") or 0)
    limit = int(params.get("maxResults") or 50)
    with state.lock:
        found = query.run(list(state.issues.values()))
    return {
        "expand": "schema,names",
        "startAt": start,
        "maxResults": limit,
        "total": len(found),
        "issues": [
            r.issue(issue, fields or "*navigable", str(params.get("expand") or ""))
            for issue in found[start : start + limit]
        ],
    }


@router.get("/search")
def search(_: Caller, state: State, r: Render, request: Request) -> Json:
    return _search(state, r, dict(request.query_params))


@router.post("/search")
async def search_post(_: Caller, state: State, r: Render, request: Request) -> Json:
    return _search(state, r, await json_body(request))


def create_app(state: JiraState, faults: Faults, default_user: str = "selfheal") -> FastAPI:
    """Return the FastAPI app serving the JIRA REST v2 subset over `state`."""
    app = FastAPI(title="selfheal JIRA sandbox", docs_url=None, redoc_url=None)
    app.state.jira = state
    app.state.default_user = default_user
    app.add_middleware(FaultMiddleware, faults=faults, error_body=error_body)

    @app.exception_handler(JiraError)
    async def jira_error(request: Request, exc: JiraError) -> JSONResponse:
        return JSONResponse(
            {"errorMessages": exc.messages, "errors": exc.errors},
            status_code=exc.status,
            media_type="application/json;charset=UTF-8",
        )

    app.include_router(router)
    return app
