"""check_symptom against real Prometheus: the condition of the alert that paged, read from
Prometheus' rules and narrowed to the workload, must clear and stay clear for the window;
one that still holds after the wait is reported, and with nothing to ask the report says it
did not check. The investigation's PromQL tool reads the same Prometheus."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from temporalio.testing import ActivityEnvironment

from selfheal.activities.claude.tools import answer_tool
from selfheal.activities.prometheus.activities import MetricsActivities
from selfheal.activities.prometheus.client import PrometheusClient
from selfheal.contracts.claude import ToolAnswer, ToolCall
from selfheal.contracts.kubernetes import ClusterContext
from selfheal.contracts.prometheus import SymptomReport, SymptomRequest
from selfheal.settings import Settings
from selfheal_lab.monitoring import AlertmanagerServer, PrometheusServer, ScrapeTarget
from selfheal_lab.sandbox.serving import ServedApp
from tests.prometheus.conftest import start_prometheus, wait_for

RULES = """
groups:
  - name: shop
    interval: 1s
    rules:
      - alert: HighErrorRate
        expr: http_errors_ratio > 0.05
        labels: {severity: critical}
"""


@dataclass
class ErrorRatios:
    """A /metrics endpoint serving each Deployment's 5xx ratio, set by the test."""

    ratios: dict[str, float] = field(default_factory=lambda: {"checkout": 0.12, "payments": 0.2})
    served: ServedApp | None = None

    async def metrics(self, request: Request) -> PlainTextResponse:
        lines = ["# TYPE http_errors_ratio gauge"]
        lines += [
            f'http_errors_ratio{{namespace="demo",deployment="{name}"}} {ratio}'
            for name, ratio in self.ratios.items()
        ]
        return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")


@pytest.fixture(scope="module")
def shop_errors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ErrorRatios, str]]:
    ratios = ErrorRatios()
    ratios.served = ServedApp(Starlette(routes=[Route("/metrics", ratios.metrics)])).start()
    address = f"{ratios.served.host}:{ratios.served.port}"
    server: PrometheusServer = start_prometheus(
        tmp_path_factory.mktemp("prometheus"),
        targets=[ScrapeTarget("shop", address)],
        rules=RULES,
    )
    try:
        yield ratios, server.url
    finally:
        server.stop()
        ratios.served.stop()


def check(
    url: str | None,
    seconds: float,
    wait: float,
    workload: str = "checkout",
    alertmanager: str | None = None,
) -> SymptomReport:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, prometheus_url=url, alertmanager_url=alertmanager
    )
    request = SymptomRequest(
        incident_id="inc-checkout-1",
        namespace="demo",
        workload=workload,
        alert_names=["HighErrorRate"],
        window=timedelta(seconds=seconds),
        wait=timedelta(seconds=wait),
    )
    report: SymptomReport = ActivityEnvironment().run(
        MetricsActivities(settings).check_symptom, request
    )
    return report


def test_a_symptom_that_still_holds_is_reported_with_its_value(
    shop_errors: tuple[ErrorRatios, str],
) -> None:
    _, url = shop_errors
    wait_for(lambda: check(url, 1, 0).holds, what="Prometheus to evaluate HighErrorRate")

    report = check(url, 1, 2)

    assert report.checked and report.holds
    assert report.message.startswith("the symptom still holds for demo/checkout after ")
    assert "HighErrorRate (http_errors_ratio > 0.05) = 0.12 for" in report.message
    assert 'deployment="checkout"' in report.message
    assert "payments" not in report.message, "another workload's series is not this one's"


def test_a_symptom_that_clears_must_stay_clear_for_the_window(
    shop_errors: tuple[ErrorRatios, str],
) -> None:
    ratios, url = shop_errors
    wait_for(lambda: check(url, 1, 0).holds, what="Prometheus to evaluate HighErrorRate")
    # The fix lands a moment into the check: the ratio falls below the threshold.
    threading.Timer(1.5, lambda: ratios.ratios.update(checkout=0.01)).start()

    report = check(url, 2, 30)

    assert report.checked and not report.holds, report.message
    assert report.message.startswith(
        "the symptom cleared for demo/checkout and stayed clear for 2s"
    )
    assert "returns no series for it" in report.message
    assert check(url, 1, 1, workload="payments").holds, "payments still fails"
    ratios.ratios.update(checkout=0.12)


def test_without_prometheus_or_a_rule_nothing_is_checked_and_it_says_so(
    shop_errors: tuple[ErrorRatios, str], tmp_path: Path
) -> None:
    _, url = shop_errors
    unconfigured = check(None, 1, 1)
    settings = Settings(_env_file=None, prometheus_url=url)  # type: ignore[call-arg]
    no_rule = ActivityEnvironment().run(
        MetricsActivities(settings).check_symptom,
        SymptomRequest(
            incident_id="inc-checkout-1",
            namespace="demo",
            workload="checkout",
            alert_names=["KubePodCrashLooping"],
            window=timedelta(seconds=1),
            wait=timedelta(seconds=1),
        ),
    )

    assert not unconfigured.checked and "PROMETHEUS_URL" in unconfigured.message
    assert not no_rule.checked
    assert "no alerting rule named KubePodCrashLooping" in no_rule.message


def test_prometheus_down_mid_check_is_retried_then_reported_unchecked_never_cleared(
    shop_errors: tuple[ErrorRatios, str], tmp_path: Path
) -> None:
    ratios, _ = shop_errors
    assert ratios.served is not None
    own = start_prometheus(
        tmp_path / "own",
        targets=[ScrapeTarget("shop", f"{ratios.served.host}:{ratios.served.port}")],
        rules=RULES,
    )
    try:
        wait_for(lambda: check(own.url, 1, 0).holds, what="Prometheus to evaluate HighErrorRate")
        ratios.ratios.update(checkout=0.01)  # the fix works, but Prometheus dies at once
        threading.Timer(0.3, own.stop).start()

        down = check(own.url, 3, 4)

        assert not down.checked and down.failed and not down.holds, down.message
        assert down.message.startswith(
            "the alert's own condition could not be checked for demo/checkout: "
        )
        assert re.search(r"\((\d+) read\(s\) failed over \d+s\)", down.message), down.message
        failed_reads = int(re.search(r"\((\d+) read", down.message)[1])  # type: ignore[index]
        assert failed_reads >= 2, "the reads were not retried while Prometheus was down"

        # Back within the wait, the check goes on and sees the cleared condition.
        threading.Timer(1.0, own.start).start()
        back = check(own.url, 2, 60)
        assert back.checked and not back.holds and not back.failed, back.message
    finally:
        own.stop()
        ratios.ratios.update(checkout=0.12)


def test_an_alert_from_another_prometheus_is_evaluated_from_its_generator_url(
    shop_errors: tuple[ErrorRatios, str], tmp_path: Path
) -> None:
    """The rule lives in a Prometheus the worker does not query (a second one, a ruler):
    the expression comes from the alert Alertmanager holds, and is evaluated where the
    worker reads its metrics."""
    ratios, _ = shop_errors
    assert ratios.served is not None
    scraped = [ScrapeTarget("shop", f"{ratios.served.host}:{ratios.served.port}")]
    alertmanager = AlertmanagerServer(tmp_path / "am")
    alertmanager.start()
    ruler = start_prometheus(
        tmp_path / "ruler", targets=scraped, rules=RULES, alertmanager=alertmanager.url
    )
    reader = start_prometheus(tmp_path / "reader", targets=scraped)
    try:
        assert not check(reader.url, 1, 0).checked, "the reader has no rules of its own"
        wait_for(
            lambda: check(reader.url, 1, 0, alertmanager=alertmanager.url).holds,
            timeout=40,
            what="HighErrorRate to reach Alertmanager and be read from its generatorURL",
        )

        holding = check(reader.url, 1, 1, alertmanager=alertmanager.url)
        assert holding.holds and "HighErrorRate (http_errors_ratio > 0.05) = 0.12" in (
            holding.message
        )

        ratios.ratios.update(checkout=0.01)
        cleared = check(reader.url, 2, 30, alertmanager=alertmanager.url)
        assert cleared.checked and not cleared.holds, cleared.message
        assert "HighErrorRate returns no series for it" in cleared.message
    finally:
        ratios.ratios.update(checkout=0.12)
        reader.stop()
        ruler.stop()
        alertmanager.stop()


def test_the_investigation_queries_prometheus_read_only_and_bounded(
    shop_errors: tuple[ErrorRatios, str],
) -> None:
    _, url = shop_errors
    prometheus = PrometheusClient(url)
    context = ClusterContext(namespace="demo", workload="checkout")

    def ask(**arguments: object) -> ToolAnswer:
        call = ToolCall(id="t1", name="query_metrics", input=arguments)
        return answer_tool(call, context, None, prometheus)

    wait_for(lambda: ask(promql="http_errors_ratio").content != "no series", what="a scrape")
    instant = ask(promql='http_errors_ratio{deployment="checkout"}')
    ranged = ask(promql="http_errors_ratio", range_minutes=5)
    refused = ask(promql="http_errors_ratio{")
    unconfigured = answer_tool(
        ToolCall(id="t2", name="query_metrics", input={"promql": "up"}), context, None, None
    )

    assert not instant.is_error
    assert instant.content.startswith('http_errors_ratio{deployment="checkout", ')
    assert re.search(r'namespace="demo"\} 0\.(12|01)$', instant.content), instant.content
    assert len(ranged.content.splitlines()) == 2 and " first " in ranged.content
    assert refused.is_error and refused.content.startswith("Prometheus refused the query")
    assert unconfigured.is_error and "PROMETHEUS_URL" in unconfigured.content
