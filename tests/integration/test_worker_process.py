"""`selfheal worker` as operators run it: metrics on its port, clean exit on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from selfheal_lab.sandbox.serving import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_worker_serves_prometheus_metrics_and_stops_cleanly_on_sigterm(
    dev_server_env: WorkflowEnvironment,
) -> None:
    port = free_port()
    environ = {
        **os.environ,
        "TEMPORAL_ADDRESS": dev_server_env.client.service_client.config.target_host,
        "SELFHEAL_TASK_QUEUE": f"worker-{uuid.uuid4().hex[:8]}",
        "SELFHEAL_METRICS_PORT": str(port),
        "SELFHEAL_LOG_FORMAT": "json",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "selfheal", "worker"],
        env=environ,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        metrics = ""
        deadline = time.monotonic() + 30
        while "temporal_" not in metrics and time.monotonic() < deadline:
            try:
                metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except httpx.HTTPError:
                time.sleep(0.2)
        assert "temporal_" in metrics, "no Temporal SDK metrics on the worker's endpoint"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
        output = worker.stdout.read() if worker.stdout else ""
        assert '"event": "worker stopped"' in output
    finally:
        if worker.poll() is None:
            worker.kill()
