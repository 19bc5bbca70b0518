"""Scale benchmark: 1,000 concurrent incidents on one worker next to 1,000 bare workflows.

Starts its own Temporal dev server and one worker process, then in the same run:

1. incidents: `--incidents` OOM alerts about as many workloads, delivered with the
   webhook's signal-with-start, in direct mode with SELFHEAL_AUTO_APPROVE=always, each
   followed to RESOLVED. The workflow, the guard workflow (one permit per fix), the policy,
   the rules engine and the fix generator (in analyze_workload) are the real ones; the
   cluster is a double: the context source answers a captured OOM snapshot and the three
   Kubernetes activities that change or watch it succeed at once. Why doubles: the sandbox
   simulates every pod in one Python process; 1,000 Deployments (2,000 pods) would measure
   the simulator, on the same two cores as the worker, rather than selfheal's orchestration.
2. bare: as many bare workflows, each running as many no-op activities, one after the
   other, as an incident ran (counted from the incidents' histories).

Prints both wall times, their ratio (aim ≤ 2) and the worker's peak RSS (aim ≤ 500 MB).

    python benchmarks/scale.py [--incidents 1000] [--concurrency 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from bare_workflow import BareWorkflow, noop
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from selfheal.activities.analysis.activities import AnalysisActivities
from selfheal.activities.policy import PolicyActivities
from selfheal.activities.remedy import FixActivities, OfflineAnalysisActivities
from selfheal.client.incidents import deliver_alert, incident_handle
from selfheal.contracts.jira import TicketRef, TicketRequest, TicketUpdate
from selfheal.contracts.kubernetes import (
    ClusterContext,
    ContextRequest,
    HealthCheckRequest,
    HealthReport,
    RemediationRequest,
    RemediationResult,
    RolloutRequest,
    RolloutResult,
)
from selfheal.contracts.notify import Notification, NotificationResult
from selfheal.model.alerts import Alert, AlertSource
from selfheal.settings import load_settings
from selfheal.snapshots import load_snapshot
from selfheal.workflows.incident import IncidentWorkflow
from selfheal.workflows.investigation import InvestigationWorkflow
from selfheal.workflows.search import ALL_KEYS
from selfheal_lab.binaries import find_binary

QUEUE = "scale-benchmark"
WORKLOADS = f"{QUEUE}-workloads"
NAMESPACE = "bench"
SNAPSHOT = "tests/scenarios/oom_killed/sandbox_oom"
WORKER_SETTINGS = {
    "SELFHEAL_TASK_QUEUE": QUEUE,
    "SELFHEAL_MODE": "direct",
    "SELFHEAL_AUTO_APPROVE": "always",
    "SELFHEAL_ANALYZER": "rules",
    "SELFHEAL_NAMESPACES": f"{NAMESPACE},demo",
    "SELFHEAL_VERIFY_WINDOW": "1s",
    # Nothing resolves the benchmark's alerts: wait for them as briefly as for the window.
    "SELFHEAL_ALERT_CLEAR_TIMEOUT": "1s",
    "SELFHEAL_REMEDIATION_LIMIT": "100000",
    "SELFHEAL_METRICS_PORT": "0",
}


# --- the worker process ------------------------------------------------------------------


class KubernetesDoubles:
    """The Kubernetes activities, answering from a captured OOM snapshot."""

    def __init__(self) -> None:
        self.context = load_snapshot(Path(__file__).parents[1] / SNAPSHOT)

    def read_context(self, request: ContextRequest) -> ClusterContext:
        """A fresh copy each time, as a real read builds new objects."""
        return self.context.model_copy(deep=True)

    @activity.defn(name="gather_context")
    async def gather_context(self, request: ContextRequest) -> ClusterContext:
        return self.read_context(request)

    @activity.defn(name="apply_remediation")
    async def apply_remediation(self, request: RemediationRequest) -> RemediationResult:
        return RemediationResult(applied=True, description="patched (double)", previous_revision=1)

    @activity.defn(name="wait_rollout")
    async def wait_rollout(self, request: RolloutRequest) -> RolloutResult:
        return RolloutResult(complete=True, message="rolled out (double)", revision=2)

    @activity.defn(name="verify_health")
    async def verify_health(self, request: HealthCheckRequest) -> HealthReport:
        return HealthReport(healthy=True, message="healthy (double)")


@activity.defn(name="open_ticket")
async def open_ticket(request: TicketRequest) -> TicketRef:
    return TicketRef(key=None, note="no JIRA in this benchmark")


@activity.defn(name="update_ticket")
async def update_ticket(request: TicketUpdate) -> TicketRef:
    return TicketRef(key=request.key)


@activity.defn(name="notify")
async def notify(request: Notification) -> NotificationResult:
    return NotificationResult(sent=False)


async def serve_worker(address: str) -> None:
    """Run the benchmark's one worker until killed; print `ready` once polling."""
    # Imported here, not at the top: the sandbox re-imports this module to check BareWorkflow,
    # and the worker module brings every client library along.
    from selfheal.workers.worker import (
        guard_worker,
        permit_activities,
        worker_tuning,
        workload_worker,
    )

    settings = load_settings()
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    kubernetes = KubernetesDoubles()
    guard = permit_activities(client, settings)
    activities: list[Any] = [
        PolicyActivities(settings).load_policy,
        guard.request_permit,
        AnalysisActivities(settings).diagnose,
        FixActivities(settings.fix_limits()).propose_fix,
        OfflineAnalysisActivities(kubernetes.read_context, settings.fix_limits()).analyze_workload,
        kubernetes.gather_context,
        kubernetes.apply_remediation,
        kubernetes.wait_rollout,
        kubernetes.verify_health,
        open_ticket,
        update_ticket,
        notify,
        noop,
    ]
    with ThreadPoolExecutor(settings.activity_thread_count()) as executor:
        worker = Worker(
            client,
            task_queue=QUEUE,
            workflows=[IncidentWorkflow, InvestigationWorkflow, BareWorkflow],
            activities=activities,
            activity_executor=executor,
            **worker_tuning(settings),
        )
        async with worker, guard_worker(client, settings), workload_worker(client, settings):
            print("ready", flush=True)
            await asyncio.Event().wait()


# --- the driver --------------------------------------------------------------------------


def oom_alert(run: str, index: int) -> Alert:
    return Alert(
        name="KubeContainerOOMKilled",
        source=AlertSource.ALERTMANAGER,
        namespace=NAMESPACE,
        workload=f"{run}-svc{index:04d}",
        severity="warning",
        summary="Container was OOMKilled.",
    )


async def run_incidents(client: Client, count: int, concurrency: int) -> tuple[float, list[str]]:
    """Start `count` incidents at once and wait for all of them; (seconds, incident ids).

    Fails at once when an incident escalates (it would wait for a person forever).
    """
    run = f"r{int(time.time()) % 100000}"
    gate = asyncio.Semaphore(concurrency)
    alerts = [oom_alert(run, index) for index in range(count)]

    async def deliver(alert: Alert) -> str:
        async with gate:
            delivery = await deliver_alert(
                client, alert, QUEUE, "http://127.0.0.1:8233", workload_task_queue=WORKLOADS
            )
            return delivery.incident_id

    started = time.monotonic()
    ids = await asyncio.gather(*(deliver(alert) for alert in alerts))
    mine = f"WorkflowType = 'IncidentWorkflow' AND WorkflowId STARTS_WITH 'inc-{run}-'"
    while True:
        done = (await client.count_workflows(f"{mine} AND ExecutionStatus = 'Completed'")).count
        if done >= count:
            return time.monotonic() - started, list(ids)
        async for escalated in client.list_workflows(f"{mine} AND IncidentState = 'ESCALATED'"):
            status = await incident_handle(client, escalated.id).query(IncidentWorkflow.status)
            raise RuntimeError(f"{escalated.id} escalated: {status.escalation_reason}")
        await asyncio.sleep(1)


async def activities_per_incident(client: Client, ids: list[str]) -> int:
    """Activities one incident scheduled (the most of a small sample)."""
    most = 0
    for incident_id in ids[:5]:
        history = await client.get_workflow_handle(incident_id).fetch_history()
        scheduled = [
            e
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        ]
        most = max(most, len(scheduled))
    return most


async def run_bare(client: Client, count: int, steps: int, concurrency: int) -> float:
    """Start `count` bare workflows of `steps` no-op activities; seconds until all ended."""
    run = f"bare-{int(time.time()) % 100000}"
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with gate:
            handle = await client.start_workflow(
                BareWorkflow.run, steps, id=f"{run}-{index}", task_queue=QUEUE
            )
        await handle.result()

    started = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(count)))
    return time.monotonic() - started


def drain(stream: IO[str]) -> None:
    """Copy the worker's output to ours, so its pipe never fills."""
    for line in stream:
        sys.stderr.write(line)


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


async def main(incidents: int, concurrency: int) -> int:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=list(ALL_KEYS),
        dev_server_log_level="error",
    )
    address = env.client.service_client.config.target_host
    worker = subprocess.Popen(
        [sys.executable, __file__, "--serve-worker", address],
        env={**os.environ, **WORKER_SETTINGS},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        if worker.stdout.readline().strip() != "ready":
            raise RuntimeError("the worker did not start")
        # Keep reading: the SDK's core logs to stdout, and a full pipe blocks its runtime thread,
        # which stalls every poller of the worker.
        threading.Thread(target=drain, args=(worker.stdout,), daemon=True).start()
        client = env.client
        incident_seconds, ids = await run_incidents(client, incidents, concurrency)
        print(f"incidents resolved in {incident_seconds:.1f} s; now the bare workflows", flush=True)
        steps = await activities_per_incident(client, ids)
        bare_seconds = await run_bare(client, incidents, steps, concurrency)
        rss = peak_rss_mb(worker.pid)
    finally:
        worker.kill()
        worker.wait()
        await env.shutdown()
    ratio = incident_seconds / bare_seconds
    print(f"incidents            {incidents} concurrent, direct mode, auto-approve, one worker")
    print(f"activities each      {steps}")
    print(f"incidents resolved   {incident_seconds:7.1f} s  ({incidents / incident_seconds:.1f}/s)")
    print(f"bare workflows       {bare_seconds:7.1f} s  ({incidents / bare_seconds:.1f}/s)")
    print(f"ratio                {ratio:7.2f}    (aim ≤ 2)")
    print(f"worker peak RSS      {rss:7.1f} MB (aim ≤ 500)")
    return 0 if ratio <= 2 and rss <= 500 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--serve-worker", metavar="ADDRESS")
    args = parser.parse_args()
    if args.serve_worker:
        asyncio.run(serve_worker(args.serve_worker))
    else:
        code = asyncio.run(main(args.incidents, args.concurrency))
        sys.stdout.flush()
        os._exit(code)
