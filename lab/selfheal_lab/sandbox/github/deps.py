"""What every GitHub route needs: the caller's login, the state, a renderer, request bodies."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from selfheal_lab.sandbox.github.render import Renderer
from selfheal_lab.sandbox.github.state import ApiError, GitHubState, Repository
from selfheal_lab.sandbox.github.webhooks import WebhookSender

DOCS = "https://docs.github.com/rest"


def github_state(request: Request) -> GitHubState:
    """Return the stand-in's state attached to the app."""
    state: GitHubState = request.app.state.github
    return state


def webhooks(request: Request) -> WebhookSender:
    """Return the webhook sender attached to the app."""
    sender: WebhookSender = request.app.state.webhooks
    return sender


def renderer(request: Request) -> Renderer:
    """Return a renderer whose URLs use the base URL this request was addressed to."""
    return Renderer(str(request.base_url), github_state(request))


def caller(request: Request) -> str:
    """Return the login of whoever sent the request; GitHub answers 401 without credentials."""
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() in ("token", "bearer") and credential:
        return github_state(request).login_for(credential)
    if scheme.lower() == "basic" and credential:
        try:
            user, _, password = base64.b64decode(credential).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ApiError(401, "Bad credentials") from exc
        known = github_state(request).tokens.get(password)
        return known or user
    raise ApiError(401, "Requires authentication")


def repository(
    owner: str, repo: str, request: Request, login: Annotated[str, Depends(caller)]
) -> Repository:
    """Return the repository named in the path, or GitHub's 404."""
    return github_state(request).repo(owner, repo)


Caller = Annotated[str, Depends(caller)]
Repo = Annotated[Repository, Depends(repository)]
State = Annotated[GitHubState, Depends(github_state)]
Render = Annotated[Renderer, Depends(renderer)]
Hooks = Annotated[WebhookSender, Depends(webhooks)]


async def json_body(request: Request) -> Any:
    """Return the request's JSON body, or GitHub's 400 when it is not JSON."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ApiError(400, "Problems parsing JSON") from exc


def required(body: dict[str, Any], *names: str) -> None:
    """Raise GitHub's 422 naming the first missing field."""
    for name in names:
        if body.get(name) in (None, ""):
            raise ApiError(
                422,
                f'Invalid request.\n\n"{name}" wasn\'t supplied.',
                [{"field": name, "code": "missing_field"}],
            )


def paginate(request: Request, items: list[Any]) -> JSONResponse:
    """Answer one page of `items` with GitHub's `Link` header pointing at the others."""
    per_page = min(max(int(request.query_params.get("per_page", 30)), 1), 100)
    page = max(int(request.query_params.get("page", 1)), 1)
    last = max((len(items) + per_page - 1) // per_page, 1)
    response = JSONResponse(items[(page - 1) * per_page : page * per_page])
    links = []

    def url_for(number: int) -> str:
        query = {**request.query_params, "page": str(number), "per_page": str(per_page)}
        return f"{str(request.url).split('?')[0]}?{urlencode(query)}"

    if page < last:
        links += [f'<{url_for(page + 1)}>; rel="next"', f'<{url_for(last)}>; rel="last"']
    if page > 1:
        links += [f'<{url_for(1)}>; rel="first"', f'<{url_for(page - 1)}>; rel="prev"']
    if links:
        response.headers["Link"] = ", ".join(links)
    return response


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    """Return the JSON GitHub sends with an error status."""
    default = {
        401: "Bad credentials",
        403: "Resource not accessible by integration",
        404: "Not Found",
        422: "Validation Failed",
        429: "API rate limit exceeded",
        500: "Server Error",
        502: "Server Error",
        503: "Service Unavailable",
    }.get(status, "Error")
    return {"message": message or default, "documentation_url": DOCS, "status": str(status)}
