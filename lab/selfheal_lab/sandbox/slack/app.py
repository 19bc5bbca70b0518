"""The Slack stand-in's ASGI app: the Web API methods selfheal calls, and its control routes.

Web API (`POST /api/<method>`, JSON or form body, `Authorization: Bearer xoxb-…`): answers
HTTP 200 with `{"ok": true, …}` or `{"ok": false, "error": "<code>"}` as Slack does
(`not_authed`, `invalid_auth`, `channel_not_found`, `no_text`, `invalid_blocks`,
`message_not_found`, `cant_update_message`, `thread_not_found`, `user_not_found`).

Control routes (no token):

    GET  /sandbox/v1/messages            every top-level message with its replies
    POST /sandbox/v1/click               click a button as a user: {"user", "action_id",
                                         "channel"?, "ts"?}; the interaction payload is
                                         signed and posted to the configured request URL
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from slack_sdk.signature import SignatureVerifier

from selfheal_lab.sandbox.github.faults import FaultMiddleware, Faults
from selfheal_lab.sandbox.slack.state import (
    BOT_ID,
    BOT_USER_ID,
    CHANNEL_ID,
    TEAM_ID,
    Message,
    SlackError,
    SlackState,
)

Json = dict[str, Any]

APP_ID = "A0SELFHEAL"


def error_body(status: int) -> Json:
    """The body of an injected fault: 429 is Slack's rate limit, anything else a fatal error."""
    return {"ok": False, "error": "ratelimited" if status == 429 else "fatal_error"}


async def _arguments(request: Request) -> Json:
    """A Web API call's arguments, from a JSON body or a form body (JSON-valued fields parsed)."""
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError as err:
            raise SlackError("invalid_json") from err
        if not isinstance(body, dict):
            raise SlackError("invalid_arguments")
        return body
    arguments: Json = dict(parse_qsl(raw.decode(), keep_blank_values=True))
    arguments.update(request.query_params)
    for name in ("blocks", "metadata"):
        if isinstance(arguments.get(name), str) and arguments[name]:
            try:
                arguments[name] = json.loads(arguments[name])
            except json.JSONDecodeError as err:
                raise SlackError(f"invalid_{name}") from err
    return arguments


def _blocks(arguments: Json) -> list[Json]:
    blocks = arguments.get("blocks") or []
    if not isinstance(blocks, list) or len(blocks) > 50:
        raise SlackError("invalid_blocks")
    for block in blocks:
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise SlackError("invalid_blocks")
    return blocks


def _metadata(arguments: Json) -> Json | None:
    metadata = arguments.get("metadata")
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("event_type"), str):
        raise SlackError("invalid_metadata_format")
    return {"event_type": metadata["event_type"], "event_payload": metadata.get("event_payload")}


def _flag(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def post_message(state: SlackState, arguments: Json) -> Json:
    channel = state.channel_id(str(arguments.get("channel") or ""))
    blocks = _blocks(arguments)
    text = str(arguments.get("text") or "")
    if not text and not blocks:
        raise SlackError("no_text")
    if len(text) > 40_000:
        raise SlackError("msg_too_long")
    thread_ts = arguments.get("thread_ts") or None
    with state.lock:
        if thread_ts is not None:
            parent = state.find(channel, str(thread_ts))
            thread_ts = parent.thread_ts or parent.ts  # a reply's ts means its parent's thread
        message = Message(
            channel=channel,
            ts=state.next_ts(),
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            metadata=_metadata(arguments),
        )
        state.messages.append(message)
    return {"ok": True, "channel": channel, "ts": message.ts, "message": message.render()}


def update_message(state: SlackState, arguments: Json) -> Json:
    channel = state.channel_id(str(arguments.get("channel") or ""))
    with state.lock:
        message = state.find(channel, str(arguments.get("ts") or ""))
        if message.bot_id != BOT_ID:
            raise SlackError("cant_update_message")
        blocks = _blocks(arguments) if "blocks" in arguments else message.blocks
        text = str(arguments["text"]) if "text" in arguments else message.text
        if not text and not blocks:
            raise SlackError("no_text")
        message.text, message.blocks = text, blocks
        if "metadata" in arguments:
            message.metadata = _metadata(arguments)
        message.edited += 1
    return {
        "ok": True,
        "channel": channel,
        "ts": message.ts,
        "text": message.text,
        "message": message.render(),
    }


def history(state: SlackState, arguments: Json) -> Json:
    channel = state.channel_id(str(arguments.get("channel") or ""))
    oldest = float(arguments.get("oldest") or 0)
    limit = min(int(arguments.get("limit") or 100), 999)
    cursor = int(arguments.get("cursor") or 0)
    with_metadata = _flag(arguments.get("include_all_metadata"))
    newest_first = [m for m in reversed(state.top_level(channel)) if float(m.ts) > oldest]
    page = newest_first[cursor : cursor + limit]
    more = cursor + limit < len(newest_first)
    return {
        "ok": True,
        "messages": [m.render(with_metadata) for m in page],
        "has_more": more,
        "response_metadata": {"next_cursor": str(cursor + limit) if more else ""},
    }


def replies(state: SlackState, arguments: Json) -> Json:
    channel = state.channel_id(str(arguments.get("channel") or ""))
    try:
        thread = state.thread(channel, str(arguments.get("ts") or ""))
    except SlackError as err:
        raise SlackError("thread_not_found") from err
    with_metadata = _flag(arguments.get("include_all_metadata"))
    return {"ok": True, "messages": [m.render(with_metadata) for m in thread], "has_more": False}


def user_info(state: SlackState, arguments: Json) -> Json:
    with state.lock:
        user = state.users.get(str(arguments.get("user") or ""))
    if user is None:
        raise SlackError("user_not_found")
    return {"ok": True, "user": user.render()}


def auth_test(state: SlackState, arguments: Json) -> Json:
    return {
        "ok": True,
        "url": "https://selfheal-sandbox.slack.com/",
        "team": "selfheal sandbox",
        "user": "selfheal",
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }


METHODS = {
    "chat.postMessage": post_message,
    "chat.update": update_message,
    "conversations.history": history,
    "conversations.replies": replies,
    "users.info": user_info,
    "auth.test": auth_test,
}


class Click(BaseModel):
    """The body of `POST /sandbox/v1/click`: who clicks which button on which message
    (the newest message with that button when `ts` is not given)."""

    user: str
    action_id: str = "approve"
    channel: str = CHANNEL_ID
    ts: str | None = None


def interaction_payload(state: SlackState, click: Click) -> Json:
    """Slack's `block_actions` payload for a click on a message's button."""
    channel = state.channel_id(click.channel)
    with state.lock:
        candidates = [state.find(channel, click.ts)] if click.ts else state.top_level(channel)
        for message in reversed(candidates):
            button = next((b for b in message.buttons() if b["action_id"] == click.action_id), None)
            if button is not None:
                break
        else:
            raise SlackError("button_not_found", status=404)
        user = state.users.get(click.user)
    if user is None:
        raise SlackError("user_not_found", status=404)
    now = f"{time.time():.6f}"
    return {
        "type": "block_actions",
        "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "deprecated-verification-token",
        "container": {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": f"{uuid.uuid4().int % 10**12}.{uuid.uuid4().int % 10**12}.sandbox",
        "team": {"id": TEAM_ID, "domain": "selfheal-sandbox"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": state.channels[channel]},
        "message": message.render(with_metadata=False),
        "state": {"values": {}},
        "response_url": f"https://hooks.slack.com/actions/{TEAM_ID}/sandbox/{uuid.uuid4().hex}",
        "actions": [
            {
                "action_id": button["action_id"],
                "block_id": button["block_id"],
                "text": button.get("text", {}),
                "value": button.get("value", ""),
                "type": "button",
                "action_ts": now,
            }
        ],
    }


def signed_request(signing_secret: str, payload: Json) -> tuple[bytes, dict[str, str]]:
    """The form body and headers Slack sends for an interaction payload, signed (v0)."""
    body = urlencode({"payload": json.dumps(payload)})
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=timestamp, body=body)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature or "",
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    return body.encode(), headers


def create_app(state: SlackState, faults: Faults) -> FastAPI:
    """The FastAPI app serving the Web API subset over `state`, and the control routes."""
    app = FastAPI(title="selfheal Slack sandbox", docs_url=None, redoc_url=None)
    app.state.slack = state
    app.state.interactions_url = None
    app.state.signing_secret = None
    app.add_middleware(FaultMiddleware, faults=faults, error_body=error_body)

    @app.exception_handler(SlackError)
    async def slack_error(request: Request, exc: SlackError) -> JSONResponse:
        return JSONResponse({"ok": False, "error": exc.code}, status_code=exc.status)

    @app.post("/api/{method}")
    async def web_api(method: str, request: Request) -> Json:
        handler = METHODS.get(method)
        if handler is None:
            raise SlackError("unknown_method", status=404)
        state.authenticate(request.headers.get("authorization", ""))
        return handler(state, await _arguments(request))

    @app.get("/sandbox/v1/messages")
    def messages() -> Json:
        with state.lock:
            shown = []
            for message in state.messages:
                if message.thread_ts:
                    continue
                thread = state.thread(message.channel, message.ts)[1:]
                shown.append(
                    {
                        **message.render(),
                        "channel": message.channel,
                        "replies": [reply.render() for reply in thread],
                    }
                )
        return {"messages": shown}

    # Sync: it posts to the request URL and waits for the answer, on a thread of its own.
    @app.post("/sandbox/v1/click")
    def click(click: Click) -> Json:
        url, secret = app.state.interactions_url, app.state.signing_secret
        if not url or not secret:
            raise SlackError("interactivity_not_configured", status=409)
        payload = interaction_payload(state, click)
        body, headers = signed_request(secret, payload)
        started = time.monotonic()
        try:
            answer = httpx.post(url, content=body, headers=headers, timeout=10)
        except httpx.HTTPError as err:
            return {"delivered": False, "error": str(err), "payload": payload}
        return {
            "delivered": True,
            "status": answer.status_code,
            "body": answer.text[:2000],
            "seconds": round(time.monotonic() - started, 3),
            "payload": payload,
        }

    return app
