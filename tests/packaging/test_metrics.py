"""selfheal's own metrics on the worker's Prometheus endpoint, and incident-bound activity logs."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from temporalio import activity
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.runtime import Runtime
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from selfheal.activities.permits import PermitActivities
from selfheal.client.incidents import incident_handle, incident_status
from selfheal.contracts.analysis import AnalysisRequest, WorkloadAnalysis
from selfheal.model.alerts import Alert
from selfheal.model.decisions import Approval, Rejection
from selfheal.model.diagnosis import TokenUsage
from selfheal.model.incident import IncidentState, IncidentStatus
from selfheal.model.policy import AnalyzerChoice, AutoApprovePolicy, IncidentPolicy
from selfheal.observability import incident_of, tracing_interceptors
from selfheal.workers.metrics import (
    DECISIONS,
    ESCALATIONS,
    MODEL_TOKENS,
    TIME_TO_RESOLVE,
    TRANSITIONS,
)
from selfheal.workers.worker import metrics_runtime, worker_interceptors
from selfheal.workflows.guard import GUARD_WORKFLOWS
from selfheal.workflows.incident import IncidentWorkflow
from selfheal.workflows.workload import WorkloadWorkflow
from selfheal_lab.sandbox.serving import free_port
from tests.delivery import deliver
from tests.workflow.doubles import FailingInvestigation, FakeWorld

HISTORIES = Path(__file__).resolve().parents[1] / "replay" / "histories"
_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][\w:]*)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')

Sample = tuple[str, dict[str, str], float]


def scrape(port: int) -> list[Sample]:
    """The samples the Prometheus endpoint serves now."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    samples = []
    for line in text.splitlines():
        if (match := _SAMPLE.match(line)) is not None:
            labels = dict(_LABEL.findall(match["labels"] or ""))
            samples.append((match["name"], labels, float(match["value"])))
    return samples


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    return sum(v for n, lab, v in samples if n == name and labels.items() <= lab.items())


@pytest.fixture(scope="module")
def metrics_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
async def metered_client(
    dev_server_env: WorkflowEnvironment, metrics_port: int
) -> AsyncIterator[Client]:
    """A client on the dev server whose runtime serves Prometheus, as the worker's does."""
    runtime = metrics_runtime(metrics_port)
    assert runtime is not None
    yield await Client.connect(
        dev_server_env.client.service_client.config.target_host,
        namespace=dev_server_env.client.namespace,
        data_converter=pydantic_data_converter,
        runtime=runtime,
    )


@asynccontextmanager
async def selfheal_worker(
    client: Client, world: FakeWorld, *extra: Callable[..., Any]
) -> AsyncIterator[str]:
    """A worker with selfheal's interceptors and `world`'s doubles; yield its task queue."""
    queue = f"metrics-{uuid.uuid4().hex[:8]}"
    guard = PermitActivities(client, f"guard-{queue}", queue)
    replaced = {getattr(fn, "__temporal_activity_definition").name for fn in extra}
    doubles = [
        fn
        for fn in world.activities()
        if getattr(fn, "__temporal_activity_definition").name not in replaced
    ]
    with ThreadPoolExecutor(4) as executor:
        async with Worker(
            client,
            task_queue=queue,
            workflows=[WorkloadWorkflow, IncidentWorkflow, FailingInvestigation, *GUARD_WORKFLOWS],
            activities=[*doubles, *extra, guard.request_permit],
            activity_executor=executor,
            interceptors=worker_interceptors(),
        ):
            yield queue


def an_alert() -> Alert:
    return Alert(
        name="KubePodCrashLooping",
        namespace="demo",
        workload=f"checkout-{uuid.uuid4().hex[:6]}",
        severity="critical",
    )


async def wait_for(client: Client, incident_id: str, state: IncidentState) -> IncidentStatus:
    for _ in range(200):
        status = await incident_status(client, incident_id)
        if status.state == state:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"{incident_id} never reached {state}")


async def scraped_until(port: int, name: str, **labels: str) -> list[Sample]:
    """Scrape until `name{labels}` shows up (the exporter updates asynchronously)."""
    samples: list[Sample] = []
    for _ in range(50):
        samples = scrape(port)
        if value(samples, name, **labels):
            return samples
        await asyncio.sleep(0.1)
    return samples


async def test_a_resolved_incident_counts_each_transition_once(
    metered_client: Client, metrics_port: int
) -> None:
    world = FakeWorld(policy=IncidentPolicy(namespaces=["demo"]))
    async with selfheal_worker(metered_client, world) as queue:
        delivery = await deliver(metered_client, an_alert(), queue, "http://ui.test")
        await wait_for(metered_client, delivery.incident_id, IncidentState.AWAITING_REVIEW)
        live = await scraped_until(metrics_port, TRANSITIONS, task_queue=queue, state="FIXING")
        await incident_handle(metered_client, delivery.incident_id).signal(
            IncidentWorkflow.approve, Approval(by="alice")
        )
        final = await incident_handle(metered_client, delivery.incident_id).result()
    assert final.state == IncidentState.RESOLVED
    # Counted while the incident waits for its review, not only when it ends.
    assert value(live, TRANSITIONS, task_queue=queue, state="AWAITING_REVIEW") == 1
    assert value(live, TRANSITIONS, task_queue=queue, state="RESOLVED") == 0

    samples = await scraped_until(metrics_port, TRANSITIONS, task_queue=queue, state="RESOLVED")
    path = [
        ("NONE", "RECEIVED"),
        ("RECEIVED", "ANALYZING"),
        ("ANALYZING", "FIXING"),
        ("FIXING", "AWAITING_REVIEW"),
        ("AWAITING_REVIEW", "DEPLOYING"),
        ("DEPLOYING", "VERIFYING"),
        ("VERIFYING", "RESOLVED"),
    ]
    for left, entered in path:
        assert value(samples, TRANSITIONS, task_queue=queue, from_state=left, state=entered) == 1, (
            left,
            entered,
        )
    assert value(samples, TRANSITIONS, task_queue=queue) == len(path)
    assert value(samples, ESCALATIONS, task_queue=queue) == 0
    assert value(samples, f"{TIME_TO_RESOLVE}_count", task_queue=queue, via="VERIFYING") == 1
    assert (
        value(
            samples, DECISIONS, task_queue=queue, decision="approve", accepted="true", by="person"
        )
        == 1
    )
    assert value(samples, f"{TIME_TO_RESOLVE}_bucket", task_queue=queue, le="604800") == 1


async def test_escalation_and_refused_decisions_are_counted(
    metered_client: Client, metrics_port: int
) -> None:
    policy = IncidentPolicy(
        namespaces=["demo"],
        approvers=["alice"],
        auto_approve=AutoApprovePolicy.NEVER,
        escalation_timeout=timedelta(seconds=1),
    )
    world = FakeWorld(policy=policy)
    async with selfheal_worker(metered_client, world) as queue:
        delivery = await deliver(metered_client, an_alert(), queue, "http://ui.test")
        handle = incident_handle(metered_client, delivery.incident_id)
        await wait_for(metered_client, delivery.incident_id, IncidentState.AWAITING_REVIEW)
        await handle.signal(IncidentWorkflow.approve, Approval(by="mallory"))
        await handle.signal(
            IncidentWorkflow.reject, Rejection(by="alice", reason="wrong container")
        )
        final = await handle.result()  # closed unattended after the escalation timeout
    assert final.state == IncidentState.ESCALATED
    samples = await scraped_until(metrics_port, ESCALATIONS, task_queue=queue)
    assert value(samples, ESCALATIONS, task_queue=queue, from_state="AWAITING_REVIEW") == 1
    assert value(samples, DECISIONS, task_queue=queue, decision="approve", accepted="false") == 1
    assert value(samples, DECISIONS, task_queue=queue, decision="reject", accepted="true") == 1
    assert value(samples, f"{TIME_TO_RESOLVE}_count", task_queue=queue) == 0


async def test_model_tokens_are_counted_from_the_incident_usage(
    metered_client: Client, metrics_port: int
) -> None:
    policy = IncidentPolicy(namespaces=["demo"], analyzer=AnalyzerChoice.MODEL)
    world = FakeWorld(policy=policy)
    async with selfheal_worker(metered_client, world) as queue:
        delivery = await deliver(metered_client, an_alert(), queue, "http://ui.test")
        status = await wait_for(metered_client, delivery.incident_id, IncidentState.AWAITING_REVIEW)
        await incident_handle(metered_client, delivery.incident_id).terminate("test done")
    usage: TokenUsage = status.usage
    assert usage.input_tokens > 0, "the investigation double reports the tokens it spent"
    samples = await scraped_until(metrics_port, MODEL_TOKENS, task_queue=queue)
    assert value(samples, MODEL_TOKENS, task_queue=queue, kind="input") == usage.input_tokens
    assert value(samples, MODEL_TOKENS, task_queue=queue, kind="output") == usage.output_tokens


async def test_replaying_histories_records_no_selfheal_metrics() -> None:
    port = free_port()
    replayer = Replayer(
        workflows=[WorkloadWorkflow, IncidentWorkflow, *GUARD_WORKFLOWS],
        data_converter=pydantic_data_converter,
        interceptors=worker_interceptors(),
        runtime=metrics_runtime(port),
    )
    histories = sorted(HISTORIES.glob("*.json"))
    assert histories
    for path in histories:
        history = WorkflowHistory.from_json(path.stem, path.read_text())
        result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
        assert result.replay_failure is None
    await asyncio.sleep(0.3)
    assert not [sample for sample in scrape(port) if sample[0].startswith("selfheal_")]


async def test_activity_logs_carry_the_incident_id(metered_client: Client) -> None:
    seen: list[dict[str, Any]] = []
    world = FakeWorld(policy=IncidentPolicy(namespaces=["demo"]))

    # A sync activity, as the Kubernetes ones are: it runs on the worker's thread pool.
    @activity.defn(name="analyze_workload")
    def analyze_workload(request: AnalysisRequest) -> WorkloadAnalysis:
        seen.append(structlog.contextvars.get_contextvars())
        raise ApplicationError("stop here", non_retryable=True)

    async with selfheal_worker(metered_client, world, analyze_workload) as queue:
        delivery = await deliver(metered_client, an_alert(), queue, "http://ui.test")
        await wait_for(metered_client, delivery.incident_id, IncidentState.ESCALATED)
        await incident_handle(metered_client, delivery.incident_id).terminate("test done")
    assert seen and seen[0]["incident_id"] == delivery.incident_id
    assert seen[0]["activity"] == "analyze_workload" and seen[0]["attempt"] == 1
    assert structlog.contextvars.get_contextvars().get("incident_id") is None


def test_investigation_workflows_log_under_their_incident() -> None:
    assert incident_of("inc-checkout-oom-1a2b3c4d-investigation-2") == "inc-checkout-oom-1a2b3c4d"
    assert incident_of("inc-checkout-oom-1a2b3c4d") == "inc-checkout-oom-1a2b3c4d"
    assert incident_of(None) is None


def test_tracing_stays_off_without_the_opentelemetry_sdk() -> None:
    # opentelemetry-api is installed (anthropic needs it), the SDK is not: no tracing.
    assert tracing_interceptors() == []


def test_metrics_runtime_is_off_at_port_zero() -> None:
    assert metrics_runtime(0) is None
    assert isinstance(metrics_runtime(free_port()), Runtime)
