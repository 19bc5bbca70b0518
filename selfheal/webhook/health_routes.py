"""Liveness and readiness: is the process serving, and can it reach Temporal."""

from __future__ import annotations

from fastapi import APIRouter, Response

from selfheal.webhook.answers import Health
from selfheal.webhook.deps import Link

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz(link: Link) -> Health:
    """Liveness: 200 while the process serves; also says whether Temporal is reachable."""
    reachable = await link.reachable()
    return Health(status="ok", temporal="reachable" if reachable else "unreachable")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
async def readyz(response: Response, link: Link) -> Health:
    """Readiness: 200 when Temporal is reachable, 503 with Retry-After when it is not."""
    if await link.reachable():
        return Health(status="ok", temporal="reachable")
    response.status_code = 503
    response.headers["Retry-After"] = str(link.retry_after)
    return Health(status="unavailable", temporal="unreachable")
