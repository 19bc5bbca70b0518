"""Error answers: every refusal is JSON naming what was wrong, as docs/webhook.md lists them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from temporalio.service import RPCError

from selfheal.webhook.temporal_link import TemporalUnavailable

log = structlog.get_logger("selfheal.webhook")

M = TypeVar("M", bound=BaseModel)


def field_path(loc: Sequence[int | str]) -> str:
    """`("body", "alerts", 0, "labels", "alertname")` → `alerts.0.labels.alertname`."""
    parts = [str(part) for part in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


def validate_part(model: type[M], data: Any, at: Sequence[int | str]) -> M:
    """Validate a nested part of the body, reporting a bad field by its path in the body."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise invalid_at(err, at) from err


def invalid_at(err: ValidationError, at: Sequence[int | str]) -> RequestValidationError:
    """A ValidationError of something built from the body, re-rooted at `at` in the body."""
    return RequestValidationError(
        [{**error, "loc": ("body", *at, *error["loc"])} for error in err.errors(include_url=False)]
    )


async def _invalid_payload(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": field_path(error.get("loc", ())), "message": _message(error)}
        for error in exc.errors()
    ]
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    malformed = any(error.get("type") == "json_invalid" for error in exc.errors())
    log.info("webhook payload refused", path=request.url.path, field=first["field"])
    return JSONResponse(
        {
            "error": "malformed JSON" if malformed else "invalid payload",
            "field": "body" if malformed else first["field"],
            "message": first["message"],
            "errors": errors,
        },
        status_code=422,
    )


def missing(field: str) -> dict[str, object]:
    """A validation error entry for a required body field the sender left out."""
    return {"type": "missing", "loc": ("body", field), "msg": "Field required", "input": None}


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "invalid"))
    if error.get("type") == "json_invalid" and (detail := error.get("ctx", {}).get("error")):
        return f"{message}: {detail}"
    return message


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _temporal_unavailable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TemporalUnavailable)
    log.warning("temporal unavailable", path=request.url.path, error=str(exc))
    return JSONResponse(
        {"error": str(exc), "retry_after": exc.retry_after},
        status_code=503,
        headers={"Retry-After": str(exc.retry_after)},
    )


async def _temporal_refused(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RPCError)
    log.error("temporal refused the request", path=request.url.path, error=exc.message)
    return JSONResponse({"error": f"Temporal refused the request: {exc.message}"}, status_code=502)


def install_error_answers(app: FastAPI) -> None:
    """Register the JSON error answers on `app`."""
    app.add_exception_handler(RequestValidationError, _invalid_payload)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(TemporalUnavailable, _temporal_unavailable)
    app.add_exception_handler(RPCError, _temporal_refused)
