"""Ingest benchmark: webhook alerts/s and latency next to a bare client's signal-with-start/s.

Starts its own Temporal dev server (no worker: this measures getting alerts *in*), then sends
the same mix of alerts both ways at the same concurrency, alternating the two in rounds:

- bare client: the signal-with-start the webhook itself sends (`deliver_alert`), straight
  from a Temporal client in this process;
- webhook: Alertmanager v4 notifications posted over keep-alive HTTP connections to the
  webhook server, running as its own process exactly as `selfheal webhook` runs it.

It prints both rates, the webhook's p50/p99 latency, the CPU each process spent per alert,
and the ratio webhook / bare (aim: at least 0.8). The default run takes well under a minute.

    python benchmarks/ingest.py [--alerts 3000] [--workloads 100] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from selfheal.client.incidents import deliver_alert
from selfheal.model.alerts import Alert, AlertSource
from selfheal.settings import load_settings
from selfheal.webhook.app import serve
from selfheal.workflows.search import ALL_KEYS
from selfheal_lab.binaries import find_binary
from selfheal_lab.sandbox.serving import free_port

TOKEN = "ingest-benchmark"
QUEUE = "ingest-benchmark"


def alert_mix(run: str, alerts: int, workloads: int) -> list[Alert]:
    """`alerts` crash-loop alerts spread round-robin over `workloads` Deployments."""
    return [
        Alert(
            name="KubePodCrashLooping",
            source=AlertSource.ALERTMANAGER,
            namespace="bench",
            workload=f"{run}-svc{n % workloads}",
            severity="warning",
            summary="Pod is crash looping.",
            labels={
                "alertname": "KubePodCrashLooping",
                "namespace": "bench",
                "deployment": f"{run}-svc{n % workloads}",
                "container": "app",
                "severity": "warning",
            },
        )
        for n in range(alerts)
    ]


def notification_of(alert: Alert) -> bytes:
    """The Alertmanager v4 notification carrying `alert`."""
    return json.dumps(
        {
            "version": "4",
            "status": "firing",
            "receiver": "selfheal",
            "alerts": [
                {
                    "status": "firing",
                    "labels": alert.labels,
                    "annotations": {"summary": alert.summary},
                    "startsAt": "2025-03-14T09:26:53Z",
                }
            ],
        }
    ).encode()


async def timed(
    items: list[Any], concurrency: int, send: Callable[[Any], Awaitable[None]]
) -> tuple[float, list[float]]:
    """Send every item with `concurrency` senders; the elapsed seconds and each latency."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    latencies: list[float] = []

    async def sender() -> None:
        while not queue.empty():
            item = queue.get_nowait()
            started = time.perf_counter()
            await send(item)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies


async def bare_client(
    client: Client, alerts: list[Alert], concurrency: int
) -> tuple[float, list[float]]:
    """Signal-with-start each alert straight from a Temporal client; alerts/s and latencies.

    The request is the one the webhook sends (`deliver_alert`), so the ratio of the two rates
    is the cost of the webhook layer alone.
    """

    async def send(alert: Alert) -> None:
        await deliver_alert(client, alert, QUEUE, "http://127.0.0.1:8233")

    elapsed, latencies = await timed(alerts, concurrency, send)
    return len(alerts) / elapsed, latencies


class KeepAliveSender:
    """One keep-alive HTTP/1.1 connection posting JSON, as Alertmanager's Go client does.

    A Python HTTP client library spends more CPU per request than the webhook itself; on a
    small machine that would measure the client, not the webhook.
    """

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """Send one POST; the status code and the response body."""
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.head}"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        status = int((await reader.readline()).split()[1])
        length, close = 0, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        answer = await reader.readexactly(length)
        if close:
            await self.close()
        return status, answer

    async def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def through_webhook(
    port: int, alerts: list[Alert], concurrency: int
) -> tuple[float, list[float]]:
    """Post each alert as an Alertmanager webhook; alerts per second and latencies."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    senders = [KeepAliveSender("127.0.0.1", port, headers) for _ in range(concurrency)]
    idle: asyncio.Queue[KeepAliveSender] = asyncio.Queue()
    for sender in senders:
        idle.put_nowait(sender)

    async def send(body: bytes) -> None:
        sender = await idle.get()
        try:
            status, answer = await sender.post("/webhooks/alertmanager", body)
        finally:
            idle.put_nowait(sender)
        if status != 202:
            raise RuntimeError(f"webhook answered {status}: {answer.decode()}")

    try:
        elapsed, latencies = await timed(
            [notification_of(alert) for alert in alerts], concurrency, send
        )
    finally:
        for sender in senders:
            await sender.close()
    return len(alerts) / elapsed, latencies


def run_webhook(temporal_address: str, port: int) -> None:
    """The webhook process: `selfheal webhook` with the benchmark's settings."""
    os.environ["TEMPORAL_ADDRESS"] = temporal_address
    serve(
        load_settings(
            webhook_port=port,
            webhook_token=TOKEN,
            task_queue=QUEUE,
            log_format="json",
            _env_file=None,
        )
    )


async def wait_until_ready(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=url) as http:
        while True:
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"webhook on {url} did not become ready")
            await asyncio.sleep(0.1)


def cpu_seconds_of_children(names: dict[int, str]) -> dict[str, float]:
    """CPU seconds used so far by each child process, by its name in `names` or its own."""
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[1]) == os.getpid():
            name = names.get(int(stat.parent.name), name)
            used[name] = used.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return used


def percentile(values: list[float], fraction: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


class Tally:
    """Alerts, seconds, latencies and CPU seconds per process, summed over the rounds of a path."""

    def __init__(self, names: dict[int, str]) -> None:
        self.names = names
        self.alerts = 0
        self.seconds = 0.0
        self.latencies: list[float] = []
        self.cpu: dict[str, float] = {}

    async def measure(self, alerts: int, run: Awaitable[tuple[float, list[float]]]) -> None:
        """Await `run` (not yet started), adding what it measured and the CPU it cost."""
        before, own = cpu_seconds_of_children(self.names), time.process_time()
        rate, latencies = await run
        after = {"sender": time.process_time() - own, **cpu_seconds_of_children(self.names)}
        for name, seconds in after.items():
            self.cpu[name] = self.cpu.get(name, 0.0) + seconds - before.get(name, 0.0)
        self.alerts += alerts
        self.seconds += alerts / rate
        self.latencies += latencies

    @property
    def rate(self) -> float:
        return self.alerts / self.seconds

    def line(self, label: str) -> str:
        p50, p99 = (percentile(self.latencies, f) * 1000 for f in (0.50, 0.99))
        cpu = ", ".join(
            f"{name} {sec * 1000 / self.alerts:.2f}"
            for name, sec in self.cpu.items()
            if sec * 1000 / self.alerts >= 0.01
        )
        return (
            f"{label:<32}{self.rate:8.1f} alerts/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms"
            f"   CPU ms/alert: {cpu}"
        )


async def main(alerts: int, workloads: int, concurrency: int, rounds: int) -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=list(ALL_KEYS),
    )
    port = free_port()
    webhook = multiprocessing.get_context("spawn").Process(
        target=run_webhook,
        args=(env.client.service_client.config.target_host, port),
        name="webhook",
        daemon=True,
    )
    webhook.start()
    names = {webhook.pid: "webhook"} if webhook.pid else {}
    bare, hooked = Tally(names), Tally(names)
    try:
        await wait_until_ready(f"http://127.0.0.1:{port}")
        run = uuid.uuid4().hex[:6]
        # Warm both paths (connections, caches) so neither pays a one-off cost in the figures.
        await bare_client(env.client, alert_mix(f"wb{run}", 100, 10), concurrency)
        await through_webhook(port, alert_mix(f"ww{run}", 100, 10), concurrency)
        # Alternate the paths (ABBA...) so the server slowing as it fills up favours neither.
        per_round = alerts // rounds
        for n in range(rounds):
            order = ("bare", "webhook") if n % 2 == 0 else ("webhook", "bare")
            for path in order:
                mix = alert_mix(f"{path[0]}{n}{run}", per_round, workloads)
                if path == "bare":
                    await bare.measure(per_round, bare_client(env.client, mix, concurrency))
                else:
                    await hooked.measure(per_round, through_webhook(port, mix, concurrency))
    finally:
        webhook.terminate()
        webhook.join(10)
        await env.shutdown()
    print(f"{bare.alerts} alerts per path over {workloads} workloads, {concurrency} senders")
    print(bare.line("bare client signal-with-start"))
    print(hooked.line("webhook (Alertmanager v4)"))
    print(f"ratio webhook / bare: {hooked.rate / bare.rate:.2f}   (aim: >= 0.80)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=3000)
    parser.add_argument("--workloads", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4, help="alternations of the two paths")
    args = parser.parse_args()
    asyncio.run(main(args.alerts, args.workloads, args.concurrency, args.rounds))
    os._exit(0)  # skip interpreter teardown: sdk-python#300 can crash it after a clean run
