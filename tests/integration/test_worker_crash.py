"""On the real dev server: an incident outlives a SIGKILLed worker and is driven by the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from selfheal_lab.binaries import find_binary

ROOT = Path(__file__).resolve().parents[2]


def cli_env(env: WorkflowEnvironment, queue: str) -> dict[str, str]:
    return {
        **os.environ,
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": env.client.namespace,
        "SELFHEAL_TASK_QUEUE": queue,
        "PYTHONPATH": str(ROOT),
    }


def selfheal(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "selfheal", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def start_worker(environ: dict[str, str], queue: str, journal: Path) -> subprocess.Popen[str]:
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.fake_worker",
            "--task-queue",
            queue,
            "--journal",
            str(journal),
        ],
        env=environ,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "ready"
    return worker


def temporal_list(environ: dict[str, str], query: str) -> list[dict[str, object]]:
    result = subprocess.run(
        [
            find_binary("temporal"),
            "workflow",
            "list",
            "--address",
            environ["TEMPORAL_ADDRESS"],
            "--query",
            query,
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    text = result.stdout.strip()
    return (
        json.loads(text)
        if text.startswith("[")
        else [json.loads(line) for line in text.splitlines() if line]
    )


def wait_until(check, what: str, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_incident_survives_worker_sigkill_and_cli_approval(
    dev_server_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    queue = f"crash-{uuid.uuid4().hex[:8]}"
    environ = cli_env(dev_server_env, queue)
    journal = tmp_path / "journal.txt"
    alert_file = tmp_path / "alert.json"
    alert = json.loads((ROOT / "examples" / "alert-checkout-crashloop.json").read_text())
    alert["workload"] = f"checkout-{uuid.uuid4().hex[:6]}"
    alert_file.write_text(json.dumps(alert))

    worker = start_worker(environ, queue, journal)
    try:
        triggered = selfheal(environ, "trigger", "--file", str(alert_file))
        assert triggered.returncode == 0, triggered.stderr
        incident_id = triggered.stdout.split("incident ")[1].split()[0]
        assert incident_id.startswith("inc-checkout-")

        query = f"IncidentState='AWAITING_REVIEW' AND WorkflowId='{incident_id}'"
        wait_until(lambda: temporal_list(environ, query), "AWAITING_REVIEW in visibility")

        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        worker = start_worker(environ, queue, journal)

        approved = selfheal(environ, "approve", incident_id, "--by", "alice", "--comment", "ok")
        assert approved.returncode == 0, approved.stderr

        def resolved() -> dict[str, object] | None:
            shown = selfheal(environ, "show", incident_id, "--json")
            status = json.loads(shown.stdout)
            return status if status["state"] == "RESOLVED" else None

        status = wait_until(resolved, "RESOLVED")
        assert [a["by"] for a in status["approvals"]] == ["alice"]  # type: ignore[index]
        effects = Counter(line.split()[0] for line in journal.read_text().splitlines())
        assert effects["open_pull_request"] == 1
        assert effects["merge_pull_request"] == 1
        assert effects["verify_health"] == 1

        again = selfheal(environ, "approve", incident_id, "--by", "alice")
        assert again.returncode == 1
        assert "RESOLVED" in again.stderr
        listed = json.loads(selfheal(environ, "list", "--state", "RESOLVED", "--json").stdout)
        assert incident_id in [row["id"] for row in listed]
    finally:
        worker.kill()
        worker.wait(timeout=10)


def test_cli_refuses_unknown_incident_and_bad_usage(
    dev_server_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    environ = cli_env(dev_server_env, f"cli-{uuid.uuid4().hex[:8]}")
    missing = selfheal(environ, "approve", "inc-nope-nope-00000000", "--by", "alice")
    assert missing.returncode == 1
    assert "no such incident" in missing.stderr
    shown = selfheal(environ, "show", "inc-nope-nope-00000000")
    assert shown.returncode == 1 and "no such incident" in shown.stderr
    usage = selfheal(environ, "approve", "inc-x")
    assert usage.returncode == 2
