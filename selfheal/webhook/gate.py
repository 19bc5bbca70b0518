"""The webhook gate: bounds each body and checks its sender before any route parses it."""

from __future__ import annotations

from collections.abc import Mapping

import structlog
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from selfheal.webhook.auth import SenderCheck

log = structlog.get_logger("selfheal.webhook")


_DRAIN_FACTOR = 4
"""Bodies up to this many times the limit are read to their end before the 413 is sent."""


class BodyTooLarge(Exception):
    """The request body is over the limit; `unread` when the sender is still sending it."""

    def __init__(self, unread: bool) -> None:
        super().__init__("request body over the limit")
        self.unread = unread


class WebhookGate:
    """ASGI middleware for the webhook routes: 413 over `max_body_bytes`, 401 when a sender
    check refuses.

    The limit is counted on the bytes actually received, so a missing or false Content-Length
    changes nothing; a declared length over the limit is refused without reading the body.
    """

    def __init__(
        self, app: ASGIApp, checks: Mapping[str, SenderCheck], max_body_bytes: int
    ) -> None:
        self.app = app
        self.checks = dict(checks)
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        check = self.checks.get(scope["path"]) if scope["type"] == "http" else None
        if check is None:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            body = await self._read_body(headers, receive)
        except BodyTooLarge as too_large:
            if too_large.unread:
                await self._drain(headers, receive)
            await _refuse(scope, receive, send, 413, self._too_large, {"Connection": "close"})
            return
        refusal = check(headers, body)
        if refusal is not None:
            log.warning("webhook sender refused", path=scope["path"], reason=refusal)
            await _refuse(scope, receive, send, 401, refusal, {})
            return
        await self.app(scope, _replay(body, receive), send)

    @property
    def _too_large(self) -> str:
        return f"request body is larger than {self.max_body_bytes} bytes (SELFHEAL_MAX_BODY_BYTES)"

    async def _drain(self, headers: Headers, receive: Receive) -> None:
        """Read and drop the rest of a moderately oversized body before answering 413.

        Closing a socket with unread data makes the kernel reset the connection, and the
        sender would see a reset instead of the 413. Far larger bodies are not worth reading.
        """
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > _DRAIN_FACTOR * self.max_body_bytes:
            return
        drained = 0
        while drained <= _DRAIN_FACTOR * self.max_body_bytes:
            message = await receive()
            drained += len(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body", False):
                return

    async def _read_body(self, headers: Headers, receive: Receive) -> bytes:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise BodyTooLarge(unread=True)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyTooLarge(unread=bool(message.get("more_body", False)))
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, error: str, headers: dict[str, str]
) -> None:
    await JSONResponse({"error": error}, status_code=status, headers=headers)(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive channel that yields the body already read, then defers to the real one."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
