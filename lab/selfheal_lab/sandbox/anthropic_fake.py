"""A stand-in for the Anthropic Messages API, scripted per test and recording every request.

The real `anthropic` client talks to it through `base_url`. Replies are scripted per turn
of the conversation (turn = (number of messages + 1) // 2), so a retried request gets the
same answer as the first attempt: `on_turn(1, overloaded(), overloaded(), tool_use(...))`
answers two 529s, then the tool call, and repeats the last reply from then on. A turn can
be held until the test releases it, to crash a worker mid-investigation.

It checks what the real API checks that a client can get wrong (roles alternate, every
tool_use is answered by a tool_result in the next message) and answers 400 otherwise.
Usage is estimated from the body's size, with prompt caching emulated: the first request
with a given cached prefix writes it, later ones read it.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import Body, FastAPI, Request
from fastapi.responses import JSONResponse

HOLD_LIMIT = 60.0
"""Seconds a held request waits for release before it is answered anyway."""


@dataclass
class FakeReply:
    """One scripted answer: a message (status 200) or an API error."""

    status: int = 200
    content: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str = "end_turn"
    error_type: str = ""
    error_message: str = ""
    usage: dict[str, int] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def tool_use(name: str, arguments: dict[str, Any], *, thought: str = "") -> FakeReply:
    """Return a reply in which the model calls one tool (after an optional thought)."""
    content: list[dict[str, Any]] = [{"type": "text", "text": thought}] if thought else []
    content.append({"type": "tool_use", "id": "", "name": name, "input": arguments})
    return FakeReply(content=content, stop_reason="tool_use")


def submit(diagnosis: dict[str, Any]) -> FakeReply:
    """Return a reply in which the model submits `diagnosis` as its final answer."""
    return tool_use("submit_diagnosis", diagnosis)


def text(answer: str) -> FakeReply:
    """Return a plain text reply that calls no tool."""
    return FakeReply(content=[{"type": "text", "text": answer}])


def overloaded(retry_after: int | None = None) -> FakeReply:
    """Return the API's 529 overloaded error."""
    headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
    return FakeReply(
        status=529, error_type="overloaded_error", error_message="Overloaded", headers=headers
    )


def api_error(status: int, error_type: str, message: str) -> FakeReply:
    """Return an API error reply (401 authentication_error, 400 invalid_request_error, ...)."""
    return FakeReply(status=status, error_type=error_type, error_message=message)


@dataclass
class RecordedRequest:
    """A request as the fake received it."""

    turn: int
    body: dict[str, Any]
    headers: dict[str, str]
    status: int = 0


class FakeAnthropic:
    """The scripted Messages API: serve `app` (e.g. with ServedApp), assert on `requests`."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._scripts: dict[int, list[FakeReply]] = {}
        self._holds: dict[int, threading.Event] = {}
        self._cached_prefixes: set[str] = set()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.app = self._build_app()

    def on_turn(self, turn: int, *replies: FakeReply) -> FakeAnthropic:
        """Script the replies to `turn`, in order; the last one repeats."""
        self._scripts[turn] = list(replies)
        return self

    def hold(self, turn: int) -> threading.Event:
        """Make requests for `turn` wait until the returned event is set."""
        self._holds[turn] = threading.Event()
        return self._holds[turn]

    def requests_for(self, turn: int) -> list[RecordedRequest]:
        """Return every request received for `turn`, retries included."""
        with self._lock:
            return [request for request in self.requests if request.turn == turn]

    def wait_for_request(self, turn: int, count: int = 1, timeout: float = 30.0) -> None:
        """Block until `count` requests for `turn` have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.requests_for(turn)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"fake Anthropic: no request for turn {turn} in {timeout}s")
            time.sleep(0.02)

    def all_bodies_text(self) -> str:
        """Return every received body as one JSON text, to search for leaked secrets."""
        with self._lock:
            return "\n".join(json.dumps(request.body) for request in self.requests)

    # --- the API -----------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="fake Anthropic Messages API")

        # A sync endpoint runs on a thread, so a held request blocks only itself.
        @app.post("/v1/messages")
        def create_message(request: Request, body: dict[str, Any] = Body(...)) -> JSONResponse:
            return self._answer(body, {k.lower(): v for k, v in request.headers.items()})

        return app

    def _answer(self, body: dict[str, Any], headers: dict[str, str]) -> JSONResponse:
        messages = body.get("messages") or []
        turn = (len(messages) + 1) // 2
        recorded = RecordedRequest(turn=turn, body=body, headers=headers)
        with self._lock:
            self.requests.append(recorded)
            attempt = sum(1 for request in self.requests if request.turn == turn)
        hold = self._holds.get(turn)
        if hold is not None:
            hold.wait(HOLD_LIMIT)
        problem = _invalid(body)
        if not (headers.get("x-api-key") or headers.get("authorization")):
            reply = api_error(401, "authentication_error", "x-api-key header is required")
        elif problem:
            reply = api_error(400, "invalid_request_error", problem)
        else:
            script = self._scripts.get(turn)
            if not script:
                reply = api_error(500, "api_error", f"fake: no reply scripted for turn {turn}")
            else:
                reply = script[min(attempt, len(script)) - 1]
        recorded.status = reply.status
        if reply.status != 200:
            error = {"type": reply.error_type, "message": reply.error_message}
            return JSONResponse(
                {"type": "error", "error": error}, status_code=reply.status, headers=reply.headers
            )
        return JSONResponse(self._message(body, reply, turn), headers=reply.headers)

    def _message(self, body: dict[str, Any], reply: FakeReply, turn: int) -> dict[str, Any]:
        content = []
        for index, block in enumerate(reply.content):
            if block["type"] == "tool_use":
                block = {**block, "id": block["id"] or f"toolu_fake_{turn}_{index}"}
            content.append(block)
        return {
            "id": f"msg_fake_{next(self._ids)}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", ""),
            "content": content,
            "stop_reason": reply.stop_reason,
            "stop_sequence": None,
            "usage": reply.usage or self._usage(body, content),
        }

    def _usage(self, body: dict[str, Any], content: list[dict[str, Any]]) -> dict[str, int]:
        prefix = json.dumps([body.get("tools"), body.get("system")], sort_keys=True)
        cached = "cache_control" in prefix
        with self._lock:
            seen = prefix in self._cached_prefixes
            self._cached_prefixes.add(prefix)
        prefix_tokens = len(prefix) // 4
        rest_tokens = len(json.dumps(body.get("messages"))) // 4
        return {
            "input_tokens": rest_tokens + (0 if cached else prefix_tokens),
            "output_tokens": max(1, len(json.dumps(content)) // 4),
            "cache_creation_input_tokens": prefix_tokens if cached and not seen else 0,
            "cache_read_input_tokens": prefix_tokens if cached and seen else 0,
        }


def _invalid(body: dict[str, Any]) -> str:
    """Return why the real API would refuse this body (empty when it would accept it)."""
    for name in ("model", "max_tokens", "messages"):
        if name not in body:
            return f"{name}: Field required"
    messages = body["messages"]
    if not messages or messages[0].get("role") != "user":
        return "messages: the first message must use the user role"
    for index, message in enumerate(messages):
        expected = "user" if index % 2 == 0 else "assistant"
        if message.get("role") != expected:
            return f"messages.{index}: roles must alternate between user and assistant"
        if not message.get("content"):
            return f"messages.{index}: content must be non-empty"
        if expected == "assistant":
            problem = _unanswered_tools(index, message, messages[index + 1 : index + 2])
            if problem:
                return problem
    return ""


def _unanswered_tools(index: int, message: dict[str, Any], following: list[dict[str, Any]]) -> str:
    asked = {b["id"] for b in _blocks(message) if b.get("type") == "tool_use"}
    if not asked or not following:
        return ""
    answered = {
        b.get("tool_use_id") for b in _blocks(following[0]) if b.get("type") == "tool_result"
    }
    missing = asked - answered
    if missing:
        return (
            f"messages.{index + 1}: tool_use ids were found without tool_result blocks "
            f"immediately after: {', '.join(sorted(missing))}"
        )
    return ""


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    return content if isinstance(content, list) else []
