"""Signed GitHub webhook deliveries, sent in the background so API calls never wait on them."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

log = structlog.get_logger(__name__)


def signature_256(secret: str, body: bytes) -> str:
    """Return the `X-Hub-Signature-256` header value GitHub sends for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Delivery:
    """One attempted webhook delivery and how it went."""

    id: str
    url: str
    secret: str | None
    event: str
    action: str | None
    payload: dict[str, Any]
    status: int | None = None
    error: str | None = None


class WebhookSender:
    """Posts events to `url` one at a time, in order, on a background thread; best effort.

    A failed delivery is logged and recorded in `deliveries`, never raised: GitHub itself does
    not retry, and the receiver is expected to poll for what it missed.
    """

    def __init__(self, url: str | None, secret: str | None, timeout: float = 5.0) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.deliveries: list[Delivery] = []
        self._queue: queue.Queue[Delivery] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition()
        self._pending = 0

    def send(self, event: str, payload: dict[str, Any]) -> None:
        """Queue an event for delivery; a no-op when no webhook URL is configured."""
        if not self.url:
            return
        delivery = Delivery(
            str(uuid.uuid4()), self.url, self.secret, event, payload.get("action"), payload
        )
        with self._idle:
            self.deliveries.append(delivery)
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="github-webhooks", daemon=True
                )
                self._thread.start()
        self._queue.put(delivery)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued delivery has been attempted; False if `timeout` ran out."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while True:
                delivery = self._queue.get()
                try:
                    self._deliver(client, delivery)
                finally:
                    with self._idle:
                        self._pending -= 1
                        self._idle.notify_all()

    def _deliver(self, client: httpx.Client, delivery: Delivery) -> None:
        body = json.dumps(delivery.payload).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/selfheal-sandbox",
            "X-GitHub-Event": delivery.event,
            "X-GitHub-Delivery": delivery.id,
            "X-GitHub-Hook-ID": "1",
        }
        if delivery.secret:
            headers["X-Hub-Signature-256"] = signature_256(delivery.secret, body)
            headers["X-Hub-Signature"] = (
                "sha1=" + hmac.new(delivery.secret.encode(), body, hashlib.sha1).hexdigest()
            )
        try:
            response = client.post(delivery.url, content=body, headers=headers)
            delivery.status = response.status_code
            if response.status_code >= 300:
                log.warning(
                    "github webhook refused",
                    github_event=delivery.event,
                    status=response.status_code,
                    url=delivery.url,
                )
        except Exception as exc:  # any failure to deliver is logged, never raised
            delivery.error = f"{type(exc).__name__}: {exc}"
            log.warning(
                "github webhook not delivered", github_event=delivery.event, error=delivery.error
            )
