"""The real `selfheal worker` process in direct mode with auto-approval, the rules analyzer
and short waits, for tests that drive incidents against sandbox clusters."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def direct_worker(
    env: WorkflowEnvironment, queue: str, kubeconfig: Path, cluster: str, **settings: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a worker on `queue` that fixes what it is told in the clusters `kubeconfig`
    reaches (`cluster` its own); `settings` add or override environment variables."""
    environ = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "SELFHEAL_TASK_QUEUE": queue,
        "KUBECONFIG": str(kubeconfig),
        "SELFHEAL_CLUSTER": cluster,
        "SELFHEAL_MODE": "direct",
        "SELFHEAL_AUTO_APPROVE": "always",
        "SELFHEAL_ANALYZER": "rules",
        "SELFHEAL_NAMESPACES": "demo",
        "SELFHEAL_VERIFY_WINDOW": "2s",
        "SELFHEAL_ALERT_CLEAR_TIMEOUT": "1s",  # nothing in these tests resolves the alerts
        "SELFHEAL_METRICS_PORT": "0",
        **settings,
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "selfheal", "worker"],
        env=environ,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield worker
    finally:
        worker.terminate()
        worker.wait(timeout=20)
