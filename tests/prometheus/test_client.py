"""The Prometheus/Alertmanager client against the real servers: answers, rules, alerts, auth,
and failures classified the way a retry needs them."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from selfheal.activities.prometheus.client import (
    PrometheusClient,
    clients_from,
    now,
)
from selfheal.activities.prometheus.errors import MetricsApiError, as_application_error
from selfheal.settings import Settings
from selfheal_lab.monitoring import AlertmanagerServer, PrometheusServer, ScrapeTarget
from selfheal_lab.sandbox.serving import free_port
from tests.prometheus.conftest import BASIC_AUTH, MetricsEndpoint, start_prometheus, wait_for


def settings(**fields: object) -> Settings:
    return Settings(_env_file=None, **fields)  # type: ignore[call-arg]


@pytest.fixture
def client(prometheus: PrometheusServer) -> Iterator[PrometheusClient]:
    prom = clients_from(settings(prometheus_url=prometheus.url)).prometheus
    assert prom is not None
    with prom:
        yield prom


def test_an_instant_query_answers_what_the_target_serves(
    client: PrometheusClient, endpoint: MetricsEndpoint
):
    endpoint.queue_length = 7.0
    sample = wait_for(
        lambda: next(
            (s for s in client.query('queue_length{job="app"}') if s.value[1] == 7.0), None
        ),
        what="the scraped gauge",
    )
    assert sample.metric["queue"] == "orders"
    assert sample.metric["instance"] == endpoint.address
    assert client.query("1 + 1")[0].value[1] == 2.0  # a scalar is one sample


def test_a_range_query_returns_the_samples_over_time(client: PrometheusClient):
    wait_for(lambda: client.query("scrapes_total >= 4"), what="four scrapes")
    end = now()
    series = client.query_range(
        'scrapes_total{job="app"}', end - timedelta(seconds=6), end, timedelta(seconds=1)
    )
    assert len(series) == 1
    values = [value for _, value in series[0].values]
    assert len(values) >= 4 and values == sorted(values)
    times = [moment for moment, _ in series[0].values]
    assert times[-1] <= end.timestamp() + 0.001
    rate = client.query('rate(scrapes_total{job="app"}[10s])')
    assert 0.3 < rate[0].value[1] < 3.0  # one scrape a second


def test_rules_show_the_alert_and_its_expression(
    client: PrometheusClient, endpoint: MetricsEndpoint
):
    endpoint.queue_length = 25.0

    def firing() -> object:
        rules = [rule for group in client.rules("alert") for rule in group.rules]
        return next((r for r in rules if r.name == "QueueTooLong" and r.state == "firing"), None)

    rule = wait_for(firing, what="QueueTooLong firing")
    assert rule.alerts[0].annotations["summary"] == "queue at 25"
    assert client.alert_rule("QueueTooLong") == ['queue_length{job="app"} > 10']
    assert client.alert_rule("NoSuchAlert") == []


def test_alertmanager_lists_the_alert_prometheus_sent(
    client: PrometheusClient, endpoint: MetricsEndpoint, alertmanager: AlertmanagerServer
):
    endpoint.queue_length = 30.0
    am = clients_from(settings(alertmanager_url=alertmanager.url)).alertmanager
    assert am is not None
    with am:
        alerts = wait_for(
            lambda: am.alerts(['alertname="QueueTooLong"']), what="the alert in Alertmanager"
        )
        assert alerts[0].status.state == "active"
        assert alerts[0].labels["queue"] == "orders"
        assert "queue_length" in alerts[0].generator_url
        assert am.alerts(['alertname="SomethingElse"']) == []
        with pytest.raises(MetricsApiError) as refused:
            am.alerts(["not a matcher"])
    assert refused.value.type == "AlertmanagerQueryRejected"
    assert not refused.value.retryable and "HTTP 400" in refused.value.message


def test_a_bad_query_is_refused_for_good_with_prometheus_words(client: PrometheusClient):
    with pytest.raises(MetricsApiError) as refused:
        client.query("sum(rate(scrapes_total[1m])")
    assert refused.value.type == "PrometheusQueryRejected"
    assert not refused.value.retryable
    assert "parse error" in refused.value.message
    error = as_application_error(refused.value)
    assert error.type == "PrometheusQueryRejected" and error.non_retryable


def test_a_server_that_is_down_or_silent_is_worth_retrying():
    down = PrometheusClient(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(MetricsApiError) as unreachable:
        down.query("up")
    assert unreachable.value.type == "PrometheusUnavailable" and unreachable.value.retryable
    assert not as_application_error(unreachable.value).non_retryable

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        held: list[socket.socket] = []
        accepting = threading.Thread(target=lambda: held.append(silent.accept()[0]), daemon=True)
        accepting.start()
        slow = PrometheusClient(
            f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=timedelta(seconds=0.5)
        )
        with pytest.raises(MetricsApiError) as timed_out:
            slow.query("up")
        for connection in held:
            connection.close()
    assert timed_out.value.retryable and "did not answer" in timed_out.value.message


def test_a_wrong_url_is_not_retried(endpoint: MetricsEndpoint):
    assert endpoint.served is not None
    wrong = PrometheusClient(endpoint.served.url)  # a server, but not Prometheus
    with pytest.raises(MetricsApiError) as missing:
        wrong.query("up")
    assert missing.value.type == "PrometheusNotFound" and not missing.value.retryable
    assert "base URL" in missing.value.message


def test_basic_auth_is_sent_and_a_wrong_password_is_refused_for_good(
    tmp_path: Path, endpoint: MetricsEndpoint
):
    server = start_prometheus(
        tmp_path,
        targets=[ScrapeTarget("app", endpoint.address)],
        web_config=BASIC_AUTH,
        ready_auth=("ops", "s3cret"),
    )
    try:
        good = settings(
            prometheus_url=server.url, prometheus_user="ops", prometheus_password="s3cret"
        )
        prom = clients_from(good).prometheus
        assert prom is not None
        assert prom.query("vector(1)")[0].value[1] == 1.0
        bad = clients_from(good.model_copy(update={"prometheus_password": SecretStr("nope")}))
        assert bad.prometheus is not None
        with pytest.raises(MetricsApiError) as refused:
            bad.prometheus.query("vector(1)")
        assert refused.value.type == "PrometheusPermissionDenied"
        assert not refused.value.retryable and "PROMETHEUS_USER" in refused.value.message
    finally:
        server.stop()


def test_a_bearer_token_goes_in_the_authorization_header(endpoint: MetricsEndpoint):
    assert endpoint.served is not None
    configured = settings(prometheus_url=endpoint.served.url, prometheus_token="t0ken")
    prom = clients_from(configured).prometheus
    assert prom is not None
    with pytest.raises(MetricsApiError):
        prom.query("up")  # not Prometheus: a 404, after the endpoint saw the header
    assert endpoint.authorization == "Bearer t0ken"


def test_unset_urls_mean_no_clients_and_one_kind_of_auth():
    clients = clients_from(settings())
    assert clients.prometheus is None and clients.alertmanager is None
    with pytest.raises(ValueError, match="not both"):
        settings(prometheus_url="http://p", prometheus_token="t", prometheus_user="u")
    with pytest.raises(ValueError, match="between 1m and 6h"):
        settings(metrics_window="12h")
