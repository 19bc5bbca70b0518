"""The GitHub stand-in's ASGI app: routes, GitHub-shaped errors and fault injection."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from selfheal_lab.sandbox.github import routes_git, routes_pulls
from selfheal_lab.sandbox.github.deps import error_body
from selfheal_lab.sandbox.github.faults import FaultMiddleware, Faults
from selfheal_lab.sandbox.github.state import ApiError, GitHubState
from selfheal_lab.sandbox.github.webhooks import WebhookSender


def create_app(state: GitHubState, faults: Faults, webhooks: WebhookSender) -> FastAPI:
    """Return the FastAPI app serving the GitHub REST subset over `state`."""
    app = FastAPI(title="selfheal GitHub sandbox", docs_url=None, redoc_url=None)
    app.state.github = state
    app.state.webhooks = webhooks
    app.add_middleware(FaultMiddleware, faults=faults, error_body=error_body)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        body = error_body(exc.status, exc.message)
        if exc.errors is not None:
            body["errors"] = exc.errors
        return JSONResponse(body, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body(422, "Validation Failed"), status_code=422)

    app.include_router(routes_git.router)
    app.include_router(routes_pulls.router)
    return app
