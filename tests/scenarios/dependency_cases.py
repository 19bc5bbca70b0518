# ruff: noqa: E501  (verbatim log lines are data)
"""Scenario cases of `dependency_failure`: the workload's logs say a dependency is unreachable.

Each library's wording is its own (libpq, Go's net and crypto/x509, the JDK, Redis
clients). The last case is the negative one: a single DNS error hours ago in a healthy
workload's log is no fault.
"""

from __future__ import annotations

from kit import (
    DAY,
    REG,
    Obj,
    Revision,
    Scenario,
    back_off,
    c_running,
    c_waiting,
    healthy_pods,
    rv,
    terminated,
    ts,
    uid,
    web,
)


def configmap(name: str, data: dict[str, str], minutes_ago: float = 90 * DAY) -> Obj:
    """A ConfigMap of the shop namespace."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "data": data,
        "metadata": {
            "name": name,
            "namespace": "shop",
            "creationTimestamp": ts(minutes_ago),
            "uid": uid(name),
            "resourceVersion": rv(name),
        },
    }


def _crash_looping(s: Scenario, rev: Revision, count: int, restarts: int, log: str) -> None:
    app = rev.containers[0]
    for i in range(count):
        name = s.pod_name(rev, i)
        s.pod(
            rev,
            i,
            [
                c_waiting(
                    app,
                    "CrashLoopBackOff",
                    back_off(app, name),
                    restarts + i,
                    terminated(1, "Error", 4, 4),
                )
            ],
            started_minutes_ago=5 * DAY,
        )
        s.previous_logs[f"{name}/{app['name']}"] = log
        s.event(
            "Pod",
            name,
            "BackOff",
            f"Back-off restarting failed container {app['name']} in pod {name}_shop({uid(name)})",
            1,
            count=33,
            first_minutes_ago=45,
            container=app["name"],
        )


def dependency_crash_db_refused() -> Scenario:
    s = Scenario(
        "dependency_failure",
        "crash_db_refused",
        "none",
        "orders",
        containers=["orders"],
        description="Exit 1 on a revision running for weeks: the database refuses connections "
        "(libpq). Neither a rollback nor a restart would help.",
    )
    env = [{"name": "ORDERS_DB_HOST", "value": "orders-db.shop.svc"}]
    old = Revision(8, [web(f"{REG}/orders:4.0.9", env=env)], 60 * DAY)
    rev = Revision(9, [web(f"{REG}/orders:4.1.0", env=env)], 21 * DAY, replicas=3)
    s.revisions = [old, rev]
    _crash_looping(
        s,
        rev,
        3,
        9,
        """
2025-06-03T14:26:00Z INFO  orders 4.1.0 starting
2025-06-03T14:26:30Z ERROR could not connect to server: Connection refused. Is the server running on host "orders-db.shop.svc" (10.96.14.2) and accepting TCP/IP connections on port 5432?
2025-06-03T14:26:30Z FATAL database unavailable after 30s, exiting
""",
    )
    return s


def dependency_crash_dns() -> Scenario:
    s = Scenario(
        "dependency_failure",
        "crash_dns_no_such_host",
        "none",
        "ledger",
        containers=["ledger"],
        description="The Go service cannot resolve its database's Service name (no such host) "
        "and exits; the name comes from its --db-host argument.",
    )
    app = web(
        f"{REG}/ledger:2.9.0",
        args=["--listen=:8080", "--db-host=postgres", "--db-port=5432"],
    )
    rev = Revision(12, [app], 30 * DAY, replicas=2)
    s.revisions = [rev]
    s.replicas = 2
    _crash_looping(
        s,
        rev,
        2,
        14,
        """
{"level":"info","ts":"2025-06-03T14:25:58Z","msg":"ledger starting","version":"2.9.0"}
{"level":"error","ts":"2025-06-03T14:26:03Z","msg":"database not reachable, retrying","error":"failed to connect to `host=postgres user=ledger database=ledger`: hostname resolving error (lookup postgres on 10.96.0.10:53: no such host)"}
{"level":"fatal","ts":"2025-06-03T14:26:13Z","msg":"giving up","error":"dial tcp: lookup postgres on 10.96.0.10:53: no such host"}
""",
    )
    return s


def dependency_readiness_redis_timeout() -> Scenario:
    s = Scenario(
        "dependency_failure",
        "readiness_redis_timeout",
        "none",
        "reviews",
        containers=["reviews"],
        description="Readiness answers 503 because the Redis cache times out: the logs say "
        "so on every check. Not the probe's fault.",
    )
    env = [{"name": "REVIEWS_CACHE_ADDR", "value": "reviews-cache:6379"}]
    app = web(f"{REG}/reviews:2.2.0", env=env)
    rev = Revision(3, [app], 18 * DAY, replicas=2)
    s.revisions = [rev]
    s.replicas = 2
    for i in range(2):
        name = s.pod_name(rev, i)
        s.pod(rev, i, [c_running(app, 4 * DAY, ready=False)], started_minutes_ago=4 * DAY)
        s.event(
            "Pod",
            name,
            "Unhealthy",
            "Readiness probe failed: HTTP probe failed with statuscode: 503",
            1,
            count=120,
            first_minutes_ago=25,
            container="reviews",
        )
        s.logs[f"{name}/reviews"] = "".join(
            f"2025-06-03T14:29:{second:02d}Z WARN readiness: redis reviews-cache:6379 "
            "unreachable: dial tcp 10.96.33.8:6379: i/o timeout\n"
            for second in (20, 30, 40, 50)
        )
    return s


def dependency_ready_tls_expired() -> Scenario:
    s = Scenario(
        "dependency_failure",
        "ready_tls_expired",
        "none",
        "storefront",
        containers=["storefront"],
        description="All pods ready, but every charge fails: the payments API serves an "
        "expired certificate. Pod state alone says nothing is wrong.",
    )
    env = [
        {
            "name": "PAYMENTS_API_URL",
            "valueFrom": {
                "configMapKeyRef": {"key": "payments-api-url", "name": "storefront-settings"}
            },
        }
    ]
    rev = Revision(22, [web(f"{REG}/storefront:9.1.0", env=env)], 9 * DAY, replicas=3, ready=3)
    s.revisions = [rev]
    healthy_pods(s, rev, 3, 9 * DAY)
    for i in range(2):
        name = s.pod_name(rev, i)
        lines = []
        for second in range(5, 60, 11):
            lines.append(
                f"2025-06-03T14:29:{second:02d}Z INFO  GET /api/cart 200 8ms\n"
                f"2025-06-03T14:29:{second + 1:02d}Z ERROR charge failed order=A-{7730 + second}: "
                'Post "https://payments-api.shop.svc:8443/v1/charges": tls: failed to verify '
                "certificate: x509: certificate has expired or is not yet valid: current time "
                f"2025-06-03T14:29:{second + 1:02d}Z is after 2025-06-03T00:00:00Z\n"
            )
        s.logs[f"{name}/storefront"] = "".join(lines)
    s.objects.append(
        configmap(
            "storefront-settings",
            {
                "payments-api-url": "https://payments-api.shop.svc:8443",
                "currency": "EUR",
            },
        )
    )
    return s


def dependency_ready_unknown_host() -> Scenario:
    s = Scenario(
        "dependency_failure",
        "ready_java_unknown_host",
        "none",
        "catalog",
        containers=["catalog"],
        description="Pods ready, but stock lookups fail: inventory-svc does not resolve "
        "(java.net.UnknownHostException) since the inventory Service was renamed.",
    )
    app = web(
        f"{REG}/catalog:5.0.3",
        memory="1Gi",
        envFrom=[{"configMapRef": {"name": "catalog-env"}}],
    )
    rev = Revision(11, [app], 10 * DAY, replicas=2, ready=2)
    s.revisions = [rev]
    s.replicas = 2
    healthy_pods(s, rev, 2, 10 * DAY)
    for i in range(2):
        name = s.pod_name(rev, i)
        s.logs[f"{name}/catalog"] = "".join(
            f"2025-06-03T14:2{minute}:12.118Z ERROR 1 --- [nio-8080-exec-{minute}] "
            "c.a.catalog.StockClient : stock lookup failed: I/O error on GET request for "
            '"http://inventory-svc:8080/api/stock/A-1001": inventory-svc: Name or service '
            "not known; nested exception is java.net.UnknownHostException: inventory-svc: "
            "Name or service not known\n"
            f"2025-06-03T14:2{minute}:12.120Z  INFO 1 --- [nio-8080-exec-{minute}] "
            "c.a.catalog.ProductController : GET /api/products/A-1001 200 (stock unknown)\n"
            for minute in (6, 7, 8, 9)
        )
    s.objects.append(
        configmap(
            "catalog-env",
            {"INVENTORY_SVC_URL": "http://inventory-svc:8080", "CATALOG_PAGE_SIZE": "50"},
        )
    )
    return s


def healthy_stale_dependency_error() -> Scenario:
    s = Scenario(
        "unknown",
        "healthy_stale_dependency_error",
        "none",
        "billing",
        fault_found=False,
        containers=[],
        description="One DNS error five hours ago in a healthy workload's log, then normal "
        "traffic: a stale line is no dependency failure.",
    )
    rev = Revision(4, [web(f"{REG}/billing:6.0.2")], 20 * DAY, replicas=2, ready=2)
    s.revisions = [rev]
    s.replicas = 2
    healthy_pods(s, rev, 2, 20 * DAY)
    name = s.pod_name(rev, 0)
    s.logs[f"{name}/billing"] = (
        "2025-06-03T09:12:40Z ERROR invoice sync failed: dial tcp: lookup postgres on "
        "10.96.0.10:53: no such host\n"
        + "".join(
            f"2025-06-03T14:{minute:02d}:00Z INFO  POST /api/invoices 201 14ms\n"
            for minute in range(0, 30)
        )
    )
    return s


CASES = [
    dependency_crash_db_refused,
    dependency_crash_dns,
    dependency_readiness_redis_timeout,
    dependency_ready_tls_expired,
    dependency_ready_unknown_host,
    healthy_stale_dependency_error,
]
