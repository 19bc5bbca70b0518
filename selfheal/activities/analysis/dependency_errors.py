"""Log lines that say the application cannot reach something it depends on, and what.

Libraries word it their own way (Go's net package, libpq, the JDK, Python's socket and
urllib3, Node.js, nginx, Envoy); each pattern below is the library's own wording. A line is
classified once, by the first kind that matches: a DNS failure that timed out is a DNS
failure, and a refused connection "while connecting to upstream" is a refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selfheal.activities.analysis.messages import normalize

_I = re.IGNORECASE
# What Go's net.DNSError says after "lookup <name> on <server>: ".
_GO_DNS = r"no such host|server misbehaving|i/o timeout|no answer|read udp|dial udp"

# (kind, pattern, needs_host): a `needs_host` pattern is too common in other contexts
# ("context deadline exceeded", "503 Service Unavailable") to count without a named target.
_KINDS: list[tuple[str, re.Pattern[str], bool]] = [
    (
        "dns",
        re.compile(
            rf"\blookup \S+(?: on \S+)?: (?:{_GO_DNS})"
            r"|UnknownHostException|could not translate host name"
            r"|getaddrinfo (?:ENOTFOUND|EAI_AGAIN)"
            r"|Name or service not known|Temporary failure in name resolution|socket\.gaierror"
            r"|nodename nor servname provided|No address associated with hostname|\bno such host\b",
            _I,
        ),
        False,
    ),
    (
        "tls",
        re.compile(
            r"x509: certificate|certificate verify failed"
            r"|tls: (?:handshake failure|failed to verify)"
            r"|remote error: tls:|SSLHandshakeException|PKIX path building failed"
            r"|unable to verify the first certificate|self[- ]signed certificate|CERT_HAS_EXPIRED",
            _I,
        ),
        False,
    ),
    ("refused", re.compile(r"connection refused|ECONNREFUSED", _I), False),
    (
        "unreachable",
        re.compile(
            r"no route to host|network is unreachable|host is unreachable|EHOSTUNREACH|ENETUNREACH",
            _I,
        ),
        False,
    ),
    (
        "timeout",
        re.compile(
            r"i/o timeout|connection timed out|connect timed out|\bETIMEDOUT\b|timeout expired"
            r"|read timed out|SocketTimeoutException|ConnectTimeout(?:Error)?\b",
            _I,
        ),
        False,
    ),
    ("timeout", re.compile(r"context deadline exceeded|DeadlineExceeded", _I), True),
    (
        "upstream",
        re.compile(
            r"upstream connect error|no healthy upstream|while connecting to upstream"
            r"|upstream timed out|upstream prematurely closed|upstream request timeout",
            _I,
        ),
        False,
    ),
    (
        "upstream",
        re.compile(
            r"\b5\d\d (?:Server Error|Service Unavailable|Bad Gateway|Gateway Time-?out"
            r"|Internal Server Error)\b|\bstatus(?: code)?[ :=]+5\d\d\b",
            _I,
        ),
        True,
    ),
]

# Where the target is named, most explicit first; a name beats an IP address.
_TARGETS: list[re.Pattern[str]] = [
    re.compile(rf"\blookup (?P<host>[^\s:]+)(?: on \S+)?: (?:{_GO_DNS})", _I),
    re.compile(r"x509: certificate is valid for .*?, not (?P<host>[^\s,;)]+)", _I),
    re.compile(r"UnknownHostException: (?P<host>[^\s:;,]+)", _I),
    re.compile(r"could not translate host name \"(?P<host>[^\"]+)\"", _I),
    re.compile(r"getaddrinfo \w+ (?P<host>[^\s:,)]+)", _I),
    re.compile(
        r"\b(?:https?|grpcs?|wss?|postgres(?:ql)?|mysql|redis|rediss|amqps?|mongodb(?:\+srv)?)://"
        r"(?:[^@/\s\"']+@)?(?P<host>[^/:\s\"'?,)]+)(?::(?P<port>\d+))?",
        _I,
    ),
    re.compile(r"HTTPS?ConnectionPool\(host='(?P<host>[^']+)', port=(?P<port>\d+)\)", _I),
    re.compile(r"server at \"(?P<host>[^\"]+)\"(?: \([^)]*\))?, port (?P<port>\d+)", _I),
    re.compile(
        r"on host \"(?P<host>[^\"]+)\"(?: \([^)]*\))? and accepting TCP/IP connections "
        r"on port (?P<port>\d+)",
        _I,
    ),
    re.compile(r"\bhost=(?P<host>[\w.-]+)(?: port=(?P<port>\d+))?", _I),
    re.compile(r"dial tcp (?P<host>\[[0-9a-f:]+\]|[\w.-]+):(?P<port>\d+)", _I),
    re.compile(r"\b(?:ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH) (?P<host>[\w.-]+):(?P<port>\d+)", _I),
    re.compile(r"(?<![\w./-])(?P<host>[a-z][\w-]*(?:\.[\w-]+)*):(?P<port>\d{2,5})\b", _I),
]
_IP = re.compile(r"^\[?[0-9a-f:.]+\]?$", _I)

KIND_TEXT = {
    "dns": "cannot resolve",
    "tls": "fails TLS verification with",
    "refused": "is refused by",
    "unreachable": "has no route to",
    "timeout": "times out reaching",
    "upstream": "gets 5xx answers from",
}


@dataclass(frozen=True)
class DependencyError:
    """One log line saying a dependency cannot be reached: how, and which one if it says."""

    kind: str
    """dns, tls, refused, unreachable, timeout or upstream."""
    host: str | None
    port: str | None
    line: str

    @property
    def target(self) -> str:
        """The dependency as `host:port`, `host`, or the kind when the line names none."""
        if self.host is None:
            return f"a dependency ({self.kind})"
        return f"{self.host}:{self.port}" if self.port else self.host


def _target(line: str) -> tuple[str | None, str | None]:
    named: list[tuple[str, str | None]] = []
    for pattern in _TARGETS:
        for match in pattern.finditer(line):
            host = match.group("host").strip("[]").rstrip(".")
            port = match.groupdict().get("port")
            named.append((host, port))
    if not named:
        return None, None
    by_name = [item for item in named if not _IP.match(item[0])]
    host, port = (by_name or named)[0]
    if port is None:
        port = next((p for h, p in named if h == host and p), None)
    return host, port


def dependency_error(line: str) -> DependencyError | None:
    """Return what a log line says about an unreachable dependency, or None."""
    text = normalize(line)
    for kind, pattern, needs_host in _KINDS:
        if not pattern.search(text):
            continue
        host, port = _target(text)
        if needs_host and host is None:
            continue
        return DependencyError(kind, host, port, text)
    return None
