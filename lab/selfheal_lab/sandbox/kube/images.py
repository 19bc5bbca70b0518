"""The sandbox image registry: which images exist and how the workloads in them behave.

The simulated kubelet asks this catalogue what a container does: how much memory it needs,
which HTTP paths it serves, how long it takes to start, whether it crashes, how much traffic
one replica handles, and what it writes to its log. Images under `registry.sandbox.local`
exist only if listed here; any other image (e.g. one from a loaded snapshot of a real
cluster) is treated as a small generic service that pulls and runs fine.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

SANDBOX_REGISTRY = "registry.sandbox.local"
DEMO_REPOSITORY = f"{SANDBOX_REGISTRY}/demo"


@dataclass(frozen=True)
class Crash:
    """The process exits on its own `after_seconds` after start."""

    exit_code: int
    after_seconds: float
    log: tuple[str, ...]


@dataclass(frozen=True)
class Dependency:
    """A service the process dials at start, at the URL in env `env` (else `default_url`).

    When the URL's host does not resolve, the process logs `fatal_log` (with `{url}`,
    `{host}` filled in) after its first `lines_before` startup lines and exits 1.
    """

    env: str
    default_url: str
    fatal_log: str
    lines_before: int = 1


@dataclass(frozen=True)
class ImageBehaviour:
    """What a container started from one image does."""

    image: str
    port: int = 8080
    paths: frozenset[str] = frozenset({"/", "/healthz", "/ready", "/metrics"})
    memory_mib: int = 32
    cpu_millis: int = 50
    startup_seconds: float = 1.0
    capacity_rps: int = 0  # 0: no load model
    traffic_rps: int = 0  # what the sandbox's synthetic traffic offers the whole service
    entrypoint: tuple[str, ...] = ("/app/server",)
    startup_log: tuple[str, ...] = ()
    request_log: tuple[str, ...] = ()
    overload_log: tuple[str, ...] = ()
    crash: Crash | None = None
    dependencies: tuple[Dependency, ...] = ()
    size_bytes: int = 12_582_912
    generic: bool = False  # an image the sandbox knows nothing about: serves any port and path

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.image.encode()).hexdigest()


@dataclass
class Registry:
    """Images keyed by `repository:tag`; a lookup of a sandbox image not listed fails the pull."""

    images: dict[str, ImageBehaviour] = field(default_factory=dict)

    def add(self, behaviour: ImageBehaviour) -> None:
        self.images[behaviour.image] = behaviour

    def resolve(self, image: str) -> ImageBehaviour | None:
        """Return the behaviour of `image`, or None when the registry does not have it."""
        reference = image if ":" in image.rsplit("/", 1)[-1] else f"{image}:latest"
        if reference in self.images:
            return self.images[reference]
        if reference.startswith(SANDBOX_REGISTRY + "/"):
            return None
        return ImageBehaviour(
            image=reference, generic=True, startup_log=("generic service started",)
        )


def _checkout(tag: str, crash: Crash | None = None) -> ImageBehaviour:
    return ImageBehaviour(
        image=f"{DEMO_REPOSITORY}/checkout:{tag}",
        memory_mib=180,
        cpu_millis=100,
        startup_seconds=2.0,
        capacity_rps=100,
        traffic_rps=150,
        startup_log=(
            f'{{"level":"info","msg":"starting checkout","version":"{tag}","port":8080}}',
            '{"level":"info","msg":"connected to postgres","host":"orders-db.demo.svc","pool":20}',
            '{"level":"info","msg":"payments client ready","url":"http://payments.demo.svc:8080"}',
            '{"level":"info","msg":"warming cart cache","entries":120000,"approx_mib":150}',
            '{"level":"info","msg":"listening","addr":":8080"}',
        ),
        request_log=(
            '{"level":"info","msg":"request","method":"POST","path":"/api/cart/checkout",'
            '"status":200,"duration_ms":41}',
            '{"level":"info","msg":"request","method":"GET","path":"/api/cart","status":200,'
            '"duration_ms":6}',
        ),
        dependencies=(
            Dependency(
                env="PAYMENTS_URL",
                default_url="http://payments.demo.svc:8080",
                # Go's net/http error for a name cluster DNS does not know.
                fatal_log='{{"level":"fatal","msg":"payments client: health check failed",'
                '"url":"{url}","error":"Get \\"{url}/healthz\\": dial tcp: lookup {host} on '
                '10.96.0.10:53: no such host"}}',
                lines_before=2,
            ),
        ),
        overload_log=(
            '{"level":"warn","msg":"request queue saturated","inflight":512,"capacity_rps":100,'
            '"offered_rps":150}',
            '{"level":"error","msg":"request","method":"POST","path":"/api/cart/checkout",'
            '"status":503,"error":"overloaded, shedding load"}',
        ),
        crash=crash,
    )


def _payments(tag: str, crash: Crash | None = None) -> ImageBehaviour:
    return ImageBehaviour(
        image=f"{DEMO_REPOSITORY}/payments:{tag}",
        memory_mib=220,
        cpu_millis=200,
        startup_seconds=4.0,
        capacity_rps=60,
        traffic_rps=80,
        paths=frozenset({"/", "/actuator/health", "/actuator/health/readiness", "/healthz"}),
        startup_log=(
            "2025-01-01 00:00:00.000  INFO 1 --- [main] c.a.payments.PaymentsApplication : "
            f"Starting PaymentsApplication v{tag} using Java 21.0.5",
            "2025-01-01 00:00:01.000  INFO 1 --- [main] o.s.b.w.embedded.tomcat.TomcatWebServer "
            ": Tomcat initialized with port 8080 (http)",
            "2025-01-01 00:00:02.000  INFO 1 --- [main] com.zaxxer.hikari.HikariDataSource : "
            "HikariPool-1 - Start completed.",
            "2025-01-01 00:00:03.000  INFO 1 --- [main] c.a.payments.PaymentsApplication : "
            "Started PaymentsApplication in 3.9 seconds",
        ),
        request_log=(
            "INFO 1 --- [nio-8080-exec-4] c.a.payments.api.ChargeController : "
            "charge accepted order=ord-81723 amount=42.50 EUR",
        ),
        overload_log=(
            "WARN 1 --- [nio-8080-exec-9] o.a.tomcat.util.threads.ThreadPoolExecutor : "
            "thread pool exhausted (200/200 busy), offered 80 rps, capacity 60 rps",
        ),
        crash=crash,
    )


def _catalog(tag: str, crash: Crash | None = None) -> ImageBehaviour:
    return ImageBehaviour(
        image=f"{DEMO_REPOSITORY}/catalog:{tag}",
        memory_mib=150,
        # A small Python service, mostly idle: ~15m. The cpu-throttling scenario's 10m limit
        # throttles it in half the CFS periods, and the bounded fix (x2, 20m) clears that.
        cpu_millis=15,
        startup_seconds=1.5,
        capacity_rps=120,
        traffic_rps=200,
        startup_log=(
            "INFO:     Started server process [1]",
            "INFO:     Waiting for application startup.",
            "INFO:     catalog: loaded 48213 products into memory (~130 MiB)",
            "INFO:     Application startup complete.",
            "INFO:     Uvicorn running on http://0.0.0.0:8080 (Press CTRL+C to quit)",
        ),
        request_log=('INFO:     10.244.0.1:40312 - "GET /api/products?page=3 HTTP/1.1" 200 OK',),
        overload_log=(
            "WARNING:  catalog: worker backlog 870 requests, offered 200 rps, capacity 120 rps",
        ),
        crash=crash,
    )


CRASH_LOGS = {
    "checkout": (
        '{"level":"info","msg":"starting checkout","version":"1.5.0","port":8080}',
        '{"level":"info","msg":"running migrations","target":"0042_add_discount_code"}',
        '{"level":"fatal","msg":"migration failed","error":"pq: column \\"discount_code\\" of '
        'relation \\"orders\\" does not exist"}',
    ),
    "payments": (
        "2025-01-01 00:00:00.000  INFO 1 --- [main] c.a.payments.PaymentsApplication : "
        "Starting PaymentsApplication v1.5.0 using Java 21.0.5",
        "2025-01-01 00:00:01.000 ERROR 1 --- [main] o.s.boot.SpringApplication : "
        "Application run failed",
        "java.lang.IllegalStateException: Failed to load ApplicationContext: "
        "property 'payments.gateway.url' must not be empty",
    ),
    "catalog": (
        "INFO:     Started server process [1]",
        "INFO:     Waiting for application startup.",
        "ERROR:    Traceback (most recent call last):",
        'ERROR:      File "/app/catalog/search.py", line 17, in <module>',
        "ERROR:    ModuleNotFoundError: No module named 'rapidfuzz'",
        "ERROR:    Application startup failed. Exiting.",
    ),
}


def demo_registry() -> Registry:
    """Return the registry the sandbox starts with: the demo apps' good and broken releases.

    Each app has releases 1.4.1 and 1.4.2 (healthy) and 1.5.0, a release that exits with
    code 1 right after start. Besides those: ledger 2.3.0, fluent-bit 3.1 (log-agent) and
    busybox 1.36. No other tag exists.
    """
    registry = Registry()
    for build in (_checkout, _payments, _catalog):
        for tag in ("1.4.1", "1.4.2"):
            registry.add(build(tag))
        name = build("x").image.rsplit("/", 1)[1].split(":")[0]
        registry.add(build("1.5.0", Crash(1, 0.5, CRASH_LOGS[name])))
    registry.add(
        ImageBehaviour(
            image=f"{DEMO_REPOSITORY}/ledger:2.3.0",
            memory_mib=90,
            startup_seconds=2.0,
            startup_log=(
                "ledger 2.3.0 starting",
                "journal replayed from /var/lib/ledger (0 pending entries)",
                "listening on :8080",
            ),
            request_log=("POST /entries 201 3ms",),
        )
    )
    registry.add(
        ImageBehaviour(
            image=f"{SANDBOX_REGISTRY}/library/fluent-bit:3.1",
            port=2020,
            paths=frozenset({"/", "/api/v1/health", "/api/v1/metrics"}),
            entrypoint=("/fluent-bit/bin/fluent-bit",),
            startup_log=(
                "[info] [fluent bit] version=3.1.9",
                "[info] [sp] stream processor started",
            ),
        )
    )
    registry.add(
        ImageBehaviour(
            image="registry.sandbox.local/library/busybox:1.36",
            entrypoint=("sh",),
            startup_log=(),
            paths=frozenset(),
        )
    )
    return registry
