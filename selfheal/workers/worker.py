"""The worker process: runs IncidentWorkflow and every activity on the task queue."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Interceptor, PollerBehaviorAutoscaling, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from selfheal.activities.analysis.activities import AnalysisActivities
from selfheal.activities.claude.activities import investigation_activities
from selfheal.activities.github.activities import GitHubActivities
from selfheal.activities.jira.activities import JiraActivities
from selfheal.activities.kubernetes.activities import KubernetesActivities
from selfheal.activities.notify import NotifyActivities
from selfheal.activities.permits import PermitActivities
from selfheal.activities.policy import PolicyActivities
from selfheal.activities.prometheus.activities import MetricsActivities
from selfheal.activities.remedy import FixActivities, OfflineAnalysisActivities
from selfheal.activities.slack.activities import SlackActivities
from selfheal.connection import connect
from selfheal.observability import LogContextInterceptor, tracing_interceptors
from selfheal.settings import Settings
from selfheal.workers.keepalive import KEEPALIVE_INTERVAL, KeepAliveInterceptor
from selfheal.workers.metrics import HISTOGRAM_BUCKETS, IncidentMetricsInterceptor
from selfheal.workflows.guard import GUARD_WORKFLOWS
from selfheal.workflows.incident import IncidentWorkflow
from selfheal.workflows.investigation import InvestigationWorkflow
from selfheal.workflows.ticket_catch_up import TicketCatchUpWorkflow
from selfheal.workflows.workload import WorkloadWorkflow

log = structlog.get_logger("selfheal.worker")


def incident_activities(client: Client, settings: Settings) -> list[Callable[..., Any]]:
    """Every activity the incident workflow calls, bound to clients built once from settings."""
    kubernetes = KubernetesActivities(settings)
    analysis = AnalysisActivities(settings)
    fixes = FixActivities(settings.fix_limits())
    metrics = MetricsActivities(settings)
    offline = OfflineAnalysisActivities(
        kubernetes.gather_context, settings.fix_limits(), metrics.read
    )
    github = GitHubActivities(settings)
    jira = JiraActivities(settings)
    guard = permit_activities(client, settings)
    return [
        PolicyActivities(settings).load_policy,
        guard.request_permit,
        kubernetes.gather_context,
        kubernetes.apply_remediation,
        kubernetes.wait_rollout,
        kubernetes.verify_health,
        analysis.diagnose,
        fixes.propose_fix,
        offline.analyze_workload,
        github.open_pull_request,
        github.get_pull_request,
        github.merge_pull_request,
        github.close_pull_request,
        github.open_revert_pull_request,
        jira.open_ticket,
        jira.update_ticket,
        NotifyActivities(settings).notify,
        SlackActivities(settings).publish_decision,
        metrics.gather_metrics,
        metrics.check_symptom,
        *investigation_activities(settings, kubernetes.clusters),
    ]


def permit_activities(client: Client, settings: Settings) -> PermitActivities:
    """The permit activity's client side: the kill switch, and the workloads that count."""
    return PermitActivities(
        client,
        settings.guard_workflow_id,
        settings.guard_task_queue(),
        settings.workload_task_queue(),
        settings.task_queue,
    )


def build_workers(
    client: Client, settings: Settings, executor: ThreadPoolExecutor
) -> tuple[Worker, Worker, Worker]:
    """The process's three workers: the incident task queue (autoscaling pollers), the
    guard's own queue and the workloads' own queue."""
    incidents = Worker(
        client,
        task_queue=settings.task_queue,
        # The guard workflows too: a guard started before they had their own queue stays on
        # this one across continue-as-new.
        workflows=[
            IncidentWorkflow,
            InvestigationWorkflow,
            TicketCatchUpWorkflow,
            *GUARD_WORKFLOWS,
        ],
        activities=incident_activities(client, settings),
        activity_executor=executor,
        **worker_tuning(settings),
    )
    return incidents, guard_worker(client, settings), workload_worker(client, settings)


GUARD_CACHE = 200
"""Guard runs kept in memory. A ledger, once it has answered, waits out its window untouched;
evicted, it replays its few events when the next remediation of its workload asks."""


def guard_worker(client: Client, settings: Settings) -> Worker:
    """The worker for the kill switch and the remediation ledgers, on their own task queue."""
    return Worker(
        client,
        task_queue=settings.guard_task_queue(),
        workflows=GUARD_WORKFLOWS,
        **workflow_tuning(GUARD_CACHE),
    )


def workload_worker(client: Client, settings: Settings) -> Worker:
    """The worker for the workloads every alert enters by, on their own task queue.

    It caches as many runs as the incidents' worker (SELFHEAL_WORKFLOW_CACHE): every running
    incident has its workload, which its permits and its end wake; evicted, a workload
    replays at each of them (benchmarks/scale.py: 133 s → 117 s for 1,000 incidents).
    """
    return Worker(
        client,
        task_queue=settings.workload_task_queue(),
        workflows=[WorkloadWorkflow],
        **workflow_tuning(settings.workflow_cache),
    )


SHARED_MODULE_SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("selfheal")
)
"""The workflow sandbox, except that selfheal's own modules are imported once and shared by
every run instead of re-imported per run: that halves the memory of a cached incident
(0.34 → 0.18 MB) and the CPU of starting one. selfheal's workflow modules hold no mutable
module state. The cost: a clock or random call in them is not refused at run time here, so
every workflow test builds its worker with the full default sandbox, which does refuse it."""


def worker_tuning(settings: Settings) -> dict[str, Any]:
    """Everything about the incident worker but its queue, workflows and activities
    (benchmarks/scale.py measures a worker built with the same)."""
    return workflow_tuning(settings.workflow_cache) | {
        "max_concurrent_activities": settings.max_concurrent_activities,
        "activity_task_poller_behavior": PollerBehaviorAutoscaling(),
        "graceful_shutdown_timeout": timedelta(seconds=10),
        "max_heartbeat_throttle_interval": KEEPALIVE_INTERVAL,
    }


def workflow_tuning(cache: int) -> dict[str, Any]:
    """The workflow side of a worker: its cache of `cache` runs, sandbox, pollers, interceptors."""
    return {
        "max_cached_workflows": cache,
        "workflow_runner": SHARED_MODULE_SANDBOX,
        "workflow_task_poller_behavior": PollerBehaviorAutoscaling(),
        "interceptors": worker_interceptors(),
    }


def worker_interceptors() -> list[Interceptor]:
    """Keep-alive heartbeats, selfheal's metrics, incident-bound activity logs, and tracing
    when OpenTelemetry is there."""
    return [
        KeepAliveInterceptor(),
        IncidentMetricsInterceptor(),
        LogContextInterceptor(),
        *tracing_interceptors(),
    ]


def metrics_runtime(port: int) -> Runtime | None:
    """One Prometheus-exporting runtime for the process, or None when metrics are off."""
    if not port:
        return None
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(
                bind_address=f"0.0.0.0:{port}", histogram_bucket_overrides=HISTOGRAM_BUCKETS
            )
        )
    )


async def run_worker(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then finish in-flight tasks and exit."""
    client = await connect(runtime=metrics_runtime(settings.metrics_port))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    threads = settings.activity_thread_count()
    with ThreadPoolExecutor(threads, thread_name_prefix="activity") as executor:
        incidents, guard, workloads = build_workers(client, settings, executor)
        log.info(
            "worker started",
            task_queue=settings.task_queue,
            guard_task_queue=settings.guard_task_queue(),
            workload_task_queue=settings.workload_task_queue(),
            namespace=client.namespace,
            metrics_port=settings.metrics_port or None,
        )
        async with incidents, guard, workloads:
            await stop.wait()
            log.info("worker stopping: finishing in-flight tasks")
    log.info("worker stopped")
