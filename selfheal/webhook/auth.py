"""Who may post: bearer tokens and HMAC signatures, each compared in constant time.

A sender check reads the request headers and the raw body and returns why it refuses the sender,
or None to let the request through.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping

from pydantic import SecretStr

SenderCheck = Callable[[Mapping[str, str], bytes], str | None]


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
