"""The Slack stand-in answers slack_sdk as Slack does, and clicks buttons as Slack would."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from selfheal_lab.sandbox.slack import SlackSandbox

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"

BUTTONS = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*checkout* OOMKilled"}},
    {
        "type": "actions",
        "block_id": "decision",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "value": '{"incident": "inc-1", "proposal": "abc123"}',
                "text": {"type": "plain_text", "text": "Approve"},
            }
        ],
    },
]


class Receiver:
    """A plain HTTP server standing where selfheal's interactions route would be."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks/slack/interactions"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiving = Receiver()
    yield receiving
    receiving.server.shutdown()


@pytest.fixture
def sandbox(receiver: Receiver) -> Iterator[SlackSandbox]:
    with SlackSandbox(interactions_url=receiver.url, signing_secret=SECRET) as slack:
        yield slack


@pytest.fixture
def client(sandbox: SlackSandbox) -> WebClient:
    return WebClient(token=sandbox.token, base_url=sandbox.api_url, timeout=5)


def test_post_update_and_thread_are_seen_in_history_and_replies(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    metadata = {"event_type": "selfheal_decision", "event_payload": {"incident": "inc-1"}}
    posted = client.chat_postMessage(
        channel=sandbox.channel, text="waiting", blocks=BUTTONS, metadata=metadata
    )
    ts = posted["ts"]
    client.chat_update(channel=posted["channel"], ts=ts, text="approved by alice", blocks=[])
    reply = client.chat_postMessage(channel=sandbox.channel, thread_ts=ts, text="deploying")
    assert reply["message"]["thread_ts"] == ts

    history = client.conversations_history(channel=sandbox.channel, include_all_metadata=True)
    assert [m["ts"] for m in history["messages"]] == [ts]  # replies are not top-level
    assert history["messages"][0]["metadata"] == metadata
    assert history["messages"][0]["text"] == "approved by alice"
    bare = client.conversations_history(channel=sandbox.channel)
    assert "metadata" not in bare["messages"][0]
    thread = client.conversations_replies(channel=sandbox.channel, ts=ts)
    assert [m["text"] for m in thread["messages"]] == ["approved by alice", "deploying"]


def test_channel_by_name_and_auth_test_and_users_info(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    assert client.chat_postMessage(channel="#incidents", text="hi")["channel"] == sandbox.channel
    assert client.auth_test()["user_id"] == "U0SELFHEAL"
    alice = client.users_info(user="U024BE7LH")["user"]
    assert alice["profile"]["email"] == "alice@example.com"


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.chat_postMessage(channel="C-NOPE", text="x"), "channel_not_found"),
        (lambda c: c.chat_postMessage(channel="C0INCIDENTS"), "no_text"),
        (lambda c: c.chat_postMessage(channel="C0INCIDENTS", blocks=[{"x": 1}]), "invalid_blocks"),
        (
            lambda c: c.chat_update(channel="C0INCIDENTS", ts="1.000001", text="x"),
            "message_not_found",
        ),
        (lambda c: c.conversations_replies(channel="C0INCIDENTS", ts="1.2"), "thread_not_found"),
        (lambda c: c.users_info(user="U-NOPE"), "user_not_found"),
    ],
)
def test_errors_are_ok_false_with_slacks_codes(client: WebClient, call: Any, error: str) -> None:
    with pytest.raises(SlackApiError) as raised:
        call(client)
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == error


def test_tokens_are_checked(sandbox: SlackSandbox) -> None:
    for token, error in (("xoxb-forged", "invalid_auth"), (None, "not_authed")):
        with pytest.raises(SlackApiError) as raised:
            WebClient(token=token, base_url=sandbox.api_url).auth_test()
        assert raised.value.response["error"] == error


def test_a_click_is_posted_signed_as_slacks_block_actions(
    sandbox: SlackSandbox, client: WebClient, receiver: Receiver
) -> None:
    posted = client.chat_postMessage(channel=sandbox.channel, text="waiting", blocks=BUTTONS)
    result = httpx.post(f"{sandbox.url}/sandbox/v1/click", json={"user": "U024BE7LH"}).json()
    assert result["delivered"] and result["status"] == 200
    headers, body = receiver.requests[-1]
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    assert not SignatureVerifier("another-secret").is_valid_request(body, headers)
    payload = json.loads(parse_qs(body.decode())["payload"][0])
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U024BE7LH"
    assert payload["container"]["message_ts"] == posted["ts"]
    assert payload["actions"][0]["action_id"] == "approve"
    assert json.loads(payload["actions"][0]["value"]) == {"incident": "inc-1", "proposal": "abc123"}


def test_a_click_on_a_message_without_that_button_is_refused(sandbox: SlackSandbox) -> None:
    answer = httpx.post(f"{sandbox.url}/sandbox/v1/click", json={"user": "U024BE7LH"})
    assert answer.status_code == 404
    assert answer.json() == {"ok": False, "error": "button_not_found"}


def test_control_route_lists_messages_with_their_replies(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    ts = client.chat_postMessage(channel=sandbox.channel, text="top")["ts"]
    client.chat_postMessage(channel=sandbox.channel, thread_ts=ts, text="reply")
    listed = httpx.get(f"{sandbox.url}/sandbox/v1/messages").json()["messages"]
    assert [(m["text"], [r["text"] for r in m["replies"]]) for m in listed] == [("top", ["reply"])]
