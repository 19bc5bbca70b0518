"""Secret redaction: applied to everything before it reaches a model, a log or a snapshot.

`redact_text` masks credentials found inside free text (logs, event messages, env values);
`redact_object` walks JSON-like data, masking string values under sensitive keys as well.
Redaction errs on the side of masking: a diagnosis never needs a secret's value.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[REDACTED]"

_SENSITIVE_WORDS = (
    r"password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|client[_-]?secret|credentials?|account[_-]?key"
)

# Each pattern either masks the whole match or, when it has a group named "keep", keeps that
# group (the key, the scheme, the header name) and masks the rest.
_PATTERNS: list[re.Pattern[str]] = [
    # PEM private key blocks, also JSON-escaped (\n) and cut off before their END line.
    re.compile(
        r"-----BEGIN[A-Z ]*PRIVATE KEY-----(?:.*?-----END[A-Z ]*PRIVATE KEY-----|.*)", re.DOTALL
    ),
    # Authorization / Proxy-Authorization headers, any scheme.
    re.compile(
        r"(?P<keep>\b(?:proxy-)?authorization[\"']?[ \t]*[:=][ \t]*[\"']?)"
        r"(?:(?:bearer|basic|token|digest|negotiate|aws4-hmac-sha256)[ \t]+)?[^\s\"',;]+",
        re.IGNORECASE,
    ),
    re.compile(r"(?P<keep>\bbearer[ \t]+)[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE),
    # user:password@ in URLs.
    re.compile(r"(?P<keep>\b[a-z][a-z0-9+.\-]*://[^\s/:@\"']+:)[^\s/@\"']+(?=@)", re.IGNORECASE),
    # Slack incoming webhooks and tokens.
    re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]+"),
    re.compile(r"\bxox[abprse]-[A-Za-z0-9\-]{10,}"),
    # Anthropic and OpenAI keys.
    re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{16,}"),
    re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),
    # GitHub tokens (classic prefixes and fine-grained).
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,255}\b"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
    # AWS access key ids; secret keys are caught by the key=value rule below.
    re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b"),
    # GCP API keys and OAuth access tokens.
    re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"),
    re.compile(r"\bya29\.[0-9A-Za-z_\-]{20,}"),
    # Azure client secrets (new format) and storage/SAS connection string parts.
    re.compile(r"\b[A-Za-z0-9_~.\-]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}"),
    re.compile(r"(?P<keep>\b(?:AccountKey|SharedAccessKey|SharedAccessSignature)=)[^;\s\"']+"),
    re.compile(r"(?P<keep>[?&](?:sig|signature|X-Amz-Signature|X-Amz-Credential)=)[^&\s\"']+"),
    # JWTs (header.payload.signature, base64url).
    re.compile(r"\beyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*"),
    # password=..., "api_key": "...", DB_SECRET: ... (value quoted or bare).
    re.compile(
        r"(?P<keep>\b[A-Za-z0-9_.\-]*(?:" + _SENSITIVE_WORDS + r")[A-Za-z0-9_.\-]*[\"']?"
        r"(?:[ \t]*=|:)[ \t]*)"
        r"(?:\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|(?!\[REDACTED\])[^\s\"'&,;}]+)",
        re.IGNORECASE,
    ),
]

# Only names that end with a sensitive word: `secretName` and `secretKeyRef` point at a
# secret, they do not hold one.
_SENSITIVE_KEY = re.compile(r"(?:" + _SENSITIVE_WORDS + r")$", re.IGNORECASE)


def _mask(match: re.Match[str]) -> str:
    keep = match.groupdict().get("keep")
    return f"{keep}{REDACTED}" if keep is not None else REDACTED


def redact_text(text: str) -> str:
    """Return `text` with every credential it contains replaced by [REDACTED]."""
    for pattern in _PATTERNS:
        text = pattern.sub(_mask, text)
    return text


def is_sensitive_name(name: str) -> bool:
    """True when a key or env var name looks like it holds a secret (DB_PASSWORD, apiKey)."""
    return bool(_SENSITIVE_KEY.search(name))


def redact_object(obj: Any) -> Any:
    """Return a copy of JSON-like `obj` with credentials masked in every string.

    String values under sensitive keys (`password`, `apiKey`, ...) and the `value` of
    `{name: DB_PASSWORD, value: ...}` pairs are masked whole; keys that merely name a
    secret (`secretName`, `secretKeyRef`) are kept so a diagnosis can still cite them.
    """
    if isinstance(obj, str):
        return redact_text(obj)
    if isinstance(obj, list):
        return [redact_object(item) for item in obj]
    if isinstance(obj, dict):
        sensitive_pair = isinstance(obj.get("name"), str) and is_sensitive_name(obj["name"])
        result: dict[Any, Any] = {}
        for key, value in obj.items():
            if (
                isinstance(value, str)
                and value
                and (
                    (isinstance(key, str) and is_sensitive_name(key))
                    or (sensitive_pair and key == "value")
                )
            ):
                result[key] = REDACTED
            else:
                result[key] = redact_object(value)
        return result
    return obj
