"""Fixtures: a GitHub sandbox served over HTTP, PyGithub clients for the bot and a reviewer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException, Request
from github import Auth, Github

from selfheal_lab.sandbox.github import GitHubSandbox
from selfheal_lab.sandbox.serving import ServedApp

# Written the way people write manifests (comments, quoting, flow maps) so that an edit that
# rewrites the file instead of changing one line shows up in the diff.
CHECKOUT = """\
# checkout: owned by team-payments. Changes go through pull requests.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  namespace: demo
  annotations:
    selfheal.dev/manifest: "apps/checkout/deployment.yaml"
spec:
  replicas: 2
  selector:
    matchLabels: {app: checkout}
  template:
    metadata:
      labels:
        app: checkout
    spec:
      containers:
        - name: checkout
          image: "registry.sandbox.local/demo/checkout:1.4.2"
          env:
            - name: LOG_LEVEL
              value: 'info'
          resources:
            limits:
              memory: 256Mi  # sized from last quarter's load test
"""
MANIFESTS = {
    "README.md": "# infra\n",
    "apps/checkout/deployment.yaml": CHECKOUT,
    "apps/catalog/deployment.yaml": CHECKOUT.replace("checkout", "catalog"),
    "apps/payments/deployment.yaml": CHECKOUT.replace("checkout", "payments"),
}

BOT_TOKEN = "bot-token"
REVIEWER_TOKEN = "reviewer-token"
WEBHOOK_SECRET = "s3cret"


@dataclass
class Receiver:
    """A webhook endpoint that records what it is sent."""

    received: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hooks/github")
        async def hook(request: Request) -> dict[str, bool]:
            self.received.append({"headers": dict(request.headers), "body": await request.body()})
            if self.status >= 300:
                raise HTTPException(self.status)
            return {"ok": True}

        return app


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    recv = Receiver()
    with ServedApp(recv.app()) as served:
        yield recv, f"{served.url}/hooks/github"


@pytest.fixture
def sandbox(receiver: tuple[Receiver, str]) -> Iterator[GitHubSandbox]:
    _, url = receiver
    gh = GitHubSandbox("acme/infra", MANIFESTS, webhook_url=url, webhook_secret=WEBHOOK_SECRET)
    gh.add_user("alice", REVIEWER_TOKEN)
    gh.start()
    yield gh
    gh.stop()


def client(sandbox: GitHubSandbox, token: str, **kwargs: Any) -> Github:
    """Return a PyGithub client for the sandbox authenticating with `token`.

    PyGithub spaces requests out (1 s between writes) to respect GitHub's secondary rate
    limits; the sandbox has none, so the tests switch the throttle off.
    """
    kwargs.setdefault("seconds_between_requests", None)
    kwargs.setdefault("seconds_between_writes", None)
    return Github(base_url=sandbox.url, auth=Auth.Token(token), **kwargs)


@pytest.fixture
def bot(sandbox: GitHubSandbox) -> Github:
    return client(sandbox, BOT_TOKEN)


@pytest.fixture
def reviewer(sandbox: GitHubSandbox) -> Github:
    return client(sandbox, REVIEWER_TOKEN)
