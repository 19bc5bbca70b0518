"""Who may post: bearer tokens and HMAC signatures, each compared in constant time.

A sender check reads the request headers and the raw body and returns why it refuses the sender,
or None to let the request through.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping

from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier

SenderCheck = Callable[[Mapping[str, str], bytes], str | None]

SLACK_MAX_AGE_SECONDS = 5 * 60
"""Slack's own bound on a request's age: an older one may be a replay."""


def open_door(headers: Mapping[str, str], body: bytes) -> str | None:
    """Let every sender in (SELFHEAL_WEBHOOK_INSECURE=1 with nothing else configured)."""
    return None


def bearer_token(token: SecretStr | None) -> SenderCheck:
    """Require `Authorization: Bearer <token>`; with no token configured, refuse everyone."""
    expected = token.get_secret_value().encode() if token else None

    def check(headers: Mapping[str, str], body: bytes) -> str | None:
        if expected is None:
            return "this route needs SELFHEAL_WEBHOOK_TOKEN, which is not configured"
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            return "missing bearer token (Authorization: Bearer <SELFHEAL_WEBHOOK_TOKEN>)"
        if not hmac.compare_digest(given.strip().encode(), expected):
            return "wrong bearer token"
        return None

    return check


def _digest(secret: SecretStr, body: bytes) -> str:
    return hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).hexdigest()


def pagerduty_signature(secret: SecretStr) -> SenderCheck:
    """Require `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]` with one HMAC-SHA256 matching.

    PagerDuty lists one signature per active secret while a secret is being rotated.
    """

    def check(headers: Mapping[str, str], body: bytes) -> str | None:
        header = headers.get("x-pagerduty-signature", "")
        if not header:
            return "missing X-PagerDuty-Signature"
        expected = _digest(secret, body).encode()
        matched = False
        for item in header.split(","):
            version, _, signature = item.strip().partition("=")
            if version == "v1":
                # No early exit: the time taken must not say which signature matched.
                matched |= hmac.compare_digest(signature.strip().encode(), expected)
        return None if matched else "X-PagerDuty-Signature does not match the body"

    return check


def hub_signature(header_name: str, secret: SecretStr) -> SenderCheck:
    """Require `<header_name>: sha256=<hex HMAC-SHA256 of the body>` (GitHub, JIRA)."""
    header_key = header_name.lower()

    def check(headers: Mapping[str, str], body: bytes) -> str | None:
        header = headers.get(header_key, "")
        if not header:
            return f"missing {header_name}"
        algorithm, _, signature = header.strip().partition("=")
        expected = _digest(secret, body).encode()
        if algorithm != "sha256" or not hmac.compare_digest(signature.encode(), expected):
            return f"{header_name} does not match the body"
        return None

    return check


def slack_signature(secret: SecretStr | None) -> SenderCheck:
    """Require Slack's `X-Slack-Signature` (v0 HMAC-SHA256 of `v0:<timestamp>:<body>`) with an
    `X-Slack-Request-Timestamp` within 5 minutes of now, so a captured request cannot be
    replayed later; with no SELFHEAL_SLACK_SIGNING_SECRET, refuse everyone."""
    verifier = SignatureVerifier(secret.get_secret_value()) if secret else None

    def check(headers: Mapping[str, str], body: bytes) -> str | None:
        if verifier is None:
            return "this route needs SELFHEAL_SLACK_SIGNING_SECRET, which is not configured"
        timestamp = headers.get("x-slack-request-timestamp", "")
        signature = headers.get("x-slack-signature", "")
        if not timestamp or not signature:
            return "missing X-Slack-Signature or X-Slack-Request-Timestamp"
        if not timestamp.isdigit():
            return "X-Slack-Request-Timestamp is not a Unix time"
        age = verifier.clock.now() - int(timestamp)
        if abs(age) > SLACK_MAX_AGE_SECONDS:
            return f"X-Slack-Request-Timestamp is {int(age)} s from now (over 5 minutes): refused"
        if not verifier.is_valid(body, timestamp, signature):
            return "X-Slack-Signature does not match the body"
        return None

    return check
