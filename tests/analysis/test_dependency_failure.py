"""Dependency failures: which log lines count, what they name, and that nothing is fixed."""

from __future__ import annotations

from pathlib import Path

import pytest

from selfheal.activities.analysis import diagnose_context
from selfheal.activities.analysis.dependency_errors import dependency_error
from selfheal.activities.analysis.dependency_failure import MIN_REPEATS, current_lines
from selfheal.activities.fixes.allow_list import validate_proposal
from selfheal.activities.fixes.registry import propose_fix
from selfheal.contracts.kubernetes import ClusterContext
from selfheal.model.diagnosis import (
    ActionKind,
    DiagnosisCategory,
    FixKind,
    FixLimits,
    FixProposal,
    RemediationAction,
    RiskLevel,
)
from selfheal.snapshots import load_snapshot

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
DNS = "ERROR sync failed: dial tcp: lookup postgres on 10.96.0.10:53: no such host"


@pytest.mark.parametrize(
    ("line", "kind", "host", "port"),
    [
        ("dial tcp: lookup postgres on 10.96.0.10:53: no such host", "dns", "postgres", None),
        ("java.net.UnknownHostException: db: Name or service not known", "dns", "db", None),
        ("socket.gaierror: [Errno -3] Temporary failure in name resolution", "dns", None, None),
        (
            'could not translate host name "db" to address: Name or service not known',
            "dns",
            "db",
            None,
        ),
        ("Error: getaddrinfo ENOTFOUND cache", "dns", "cache", None),
        (
            "HTTPConnectionPool(host='inventory', port=8080): Max retries exceeded with url: "
            "/stock (Caused by NewConnectionError('Failed to establish a new connection: "
            "[Errno 111] Connection refused'))",
            "refused",
            "inventory",
            "8080",
        ),
        (
            'Get "http://inventory:8080/stock": dial tcp 10.96.3.4:8080: '
            "connect: connection refused",
            "refused",
            "inventory",
            "8080",
        ),
        ("Error: connect ECONNREFUSED 10.0.0.5:5432", "refused", "10.0.0.5", "5432"),
        (
            'connection to server at "db" (10.0.0.5), port 5432 failed: Connection refused',
            "refused",
            "db",
            "5432",
        ),
        ("dial tcp 10.0.0.5:443: i/o timeout", "timeout", "10.0.0.5", "443"),
        ("TimeoutError: [Errno 110] Connection timed out", "timeout", None, None),
        ("dial tcp 10.0.0.9:5672: connect: no route to host", "unreachable", "10.0.0.9", "5672"),
        (
            'Post "https://psp.example.com/v1": x509: certificate signed by unknown authority',
            "tls",
            "psp.example.com",
            None,
        ),
        (
            "x509: certificate is valid for *.acme.io, acme.io, not pay.internal",
            "tls",
            "pay.internal",
            None,
        ),
        (
            "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] "
            "certificate verify failed",
            "tls",
            None,
            None,
        ),
        ("upstream connect error or disconnect/reset before headers", "upstream", None, None),
        (
            "HTTPError: 503 Server Error: Service Unavailable for url: http://pricing:8080/quote",
            "upstream",
            "pricing",
            "8080",
        ),
        ('Get "http://api:8080/x": context deadline exceeded', "timeout", "api", "8080"),
        ("ERROR DIAL TCP: LOOKUP POSTGRES ON 10.96.0.10:53: NO SUCH HOST", "dns", "POSTGRES", None),
    ],
)
def test_library_wordings_name_kind_host_and_port(
    line: str, kind: str, host: str | None, port: str | None
) -> None:
    error = dependency_error(line)
    assert error is not None
    assert (error.kind, error.host, error.port) == (kind, host, port)


@pytest.mark.parametrize(
    "line",
    [
        "INFO connected to postgres host=orders-db",
        "stock lookup failed: invalid SKU",
        # The workload's own 503 (it sheds load) names no upstream.
        '{"level":"error","status":503,"error":"overloaded, shedding load"}',
        "rpc error: code = DeadlineExceeded desc = context deadline exceeded",
        '10.244.1.1 - - [03/Jun/2025:14:29:41 +0000] "GET /health HTTP/1.1" 503 19',
    ],
)
def test_lines_that_are_not_dependency_errors(line: str) -> None:
    assert dependency_error(line) is None


def test_a_line_is_current_by_its_timestamp_or_else_by_its_place() -> None:
    stamped = "2025-06-03T09:00:00Z old\n" + "".join(
        f"2025-06-03T14:{minute:02d}:00Z new\n" for minute in range(25, 30)
    )
    assert current_lines(stamped) == [line for line in stamped.splitlines() if "new" in line]
    plain = "".join(f"line {index}\n" for index in range(30))
    assert current_lines(plain) == [f"line {index}" for index in range(10, 30)]


def _healthy() -> ClusterContext:
    return load_snapshot(SCENARIOS / "unknown" / "healthy_stale_dependency_error")


def _with_lines(count: int) -> ClusterContext:
    context = _healthy()
    pod = next(iter(context.logs))
    context.logs[pod] = "".join(
        f"2025-06-03T14:29:{second:02d}Z {DNS}\n" for second in range(count)
    )
    return context


def test_a_single_stale_line_is_no_fault() -> None:
    diagnosis = diagnose_context(None, _healthy())
    assert diagnosis.category == DiagnosisCategory.UNKNOWN and not diagnosis.fault_found


def test_recent_errors_count_once_repeated() -> None:
    below = diagnose_context(None, _with_lines(MIN_REPEATS - 1))
    assert below.category == DiagnosisCategory.UNKNOWN and not below.fault_found
    repeated = diagnose_context(None, _with_lines(MIN_REPEATS))
    assert repeated.category == DiagnosisCategory.DEPENDENCY_FAILURE
    assert "cannot resolve postgres" in repeated.summary
    assert "the pods are ready" in repeated.summary
    assert any(DNS in e.detail for e in repeated.evidence)


def test_a_crash_whose_last_words_are_a_dependency_error_beats_crash_loop() -> None:
    context = load_snapshot(SCENARIOS / "dependency_failure" / "crash_db_refused")
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.DEPENDENCY_FAILURE
    assert "orders-db.shop.svc:5432" in diagnosis.summary
    assert "crash looping" in diagnosis.summary
    sources = [e.source for e in diagnosis.evidence]
    assert any(s.endswith("lastState.terminated") for s in sources)
    assert any(s.endswith("orders.previous.txt") for s in sources)
    assert "deployment/orders spec.template.spec.containers[orders].env[ORDERS_DB_HOST]" in sources

    for logs in (context.previous_logs,):
        for key in logs:
            logs[key] = "2025-06-03T14:26:30Z FATAL invalid configuration\n"
    assert diagnose_context(None, context).category == DiagnosisCategory.CRASH_LOOP


def test_a_value_that_survives_redaction_is_cited_as_the_setting() -> None:
    context = load_snapshot(SCENARIOS / "dependency_failure" / "readiness_redis_timeout")
    assert context.deployment is not None
    container = context.deployment["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "CACHE", "value": "redis://reviews-cache:6379/0"}]
    diagnosis = diagnose_context(None, context)
    assert "reviews-cache is set by env CACHE" in diagnosis.summary
    assert any(e.detail == "CACHE=redis://reviews-cache:6379/0" for e in diagnosis.evidence)


def test_a_configmap_key_is_named_from_what_survives() -> None:
    context = load_snapshot(SCENARIOS / "dependency_failure" / "ready_java_unknown_host")
    diagnosis = diagnose_context(None, context)
    assert "ConfigMap catalog-env key INVENTORY_SVC_URL" in diagnosis.summary
    assert any(
        e.source == "configmap/catalog-env data[INVENTORY_SVC_URL]" for e in diagnosis.evidence
    )


def test_no_fix_is_proposed_and_none_is_allowed() -> None:
    context = load_snapshot(SCENARIOS / "dependency_failure" / "crash_dns_no_such_host")
    diagnosis = diagnose_context(None, context)
    forced = diagnosis.model_copy(update={"suggested_fix": FixKind.RESTART})
    proposal = propose_fix(forced, context, FixLimits())
    assert proposal.kind == FixKind.NONE and proposal.action is None
    assert "No automatic fix for dependency_failure" in proposal.rationale

    restart = FixProposal(
        kind=FixKind.RESTART,
        risk=RiskLevel.LOW,
        rationale="a model's idea",
        action=RemediationAction(
            kind=ActionKind.ROLLOUT_RESTART, namespace="shop", deployment="ledger"
        ),
    )
    assert validate_proposal(restart, context, FixLimits()) == []
    refused = validate_proposal(restart, context, FixLimits(), DiagnosisCategory.DEPENDENCY_FAILURE)
    assert any("No automatic fix for dependency_failure" in reason for reason in refused)
