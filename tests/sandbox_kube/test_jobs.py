"""Jobs and CronJobs through the official client (and kubectl's `create job --from`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from selfheal_lab.sandbox.kube import KubeSandbox
from selfheal_lab.sandbox.kube.cronjobs import trigger
from tests.sandbox_kube.conftest import wait_for
from tests.sandbox_kube.test_kubectl import kubectl

NS = "demo"
BUSYBOX = "registry.sandbox.local/library/busybox:1.36"


@pytest.fixture
def batch(api: client.ApiClient) -> client.BatchV1Api:
    return client.BatchV1Api(api)


def job(name: str, script: str, restart: str = "Never", **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": restart,
                    "containers": [
                        {"name": "main", "image": BUSYBOX, "command": ["sh", "-c", script]}
                    ],
                }
            },
            **spec,
        },
    }


def conditions(batch: Any, name: str) -> dict[str, Any]:
    status = batch.read_namespaced_job(name, NS).status
    found = (status.conditions or []) if status else []
    return {c.type: c for c in found if c.status == "True"}


def events(core: Any, kind: str, name: str) -> list[tuple[str, str, str]]:
    found = core.list_namespaced_event(
        NS, field_selector=f"involvedObject.kind={kind},involvedObject.name={name}"
    ).items
    return [(e.type, e.reason, e.message) for e in found]


def job_pods(core: Any, name: str) -> list[Any]:
    return list(core.list_namespaced_pod(NS, label_selector=f"job-name={name}").items)


def test_failing_job_reaches_its_backoff_limit(core: Any, batch: Any) -> None:
    batch.create_namespaced_job(NS, job("migrate", "exit 1", backoffLimit=1))
    failed = wait_for(lambda: conditions(batch, "migrate").get("Failed"), what="Failed")
    assert failed.reason == "BackoffLimitExceeded"
    assert failed.message == "Job has reached the specified backoff limit"
    assert conditions(batch, "migrate")["FailureTarget"].reason == "BackoffLimitExceeded"
    status = batch.read_namespaced_job("migrate", NS).status
    assert status.failed == 2 and not status.succeeded and not status.active
    pods = job_pods(core, "migrate")
    assert len(pods) == 2
    for pod in pods:
        assert pod.status.phase == "Failed"
        assert pod.status.container_statuses[0].state.terminated.exit_code == 1
    recorded = events(core, "Job", "migrate")
    assert (
        "Warning",
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    ) in recorded
    created = {m for _, reason, m in recorded if reason == "SuccessfulCreate"}
    assert created == {f"Created pod: {p.metadata.name}" for p in pods}


def test_on_failure_job_counts_container_restarts(core: Any, batch: Any) -> None:
    batch.create_namespaced_job(NS, job("flaky", "exit 3", restart="OnFailure", backoffLimit=2))
    failed = wait_for(lambda: conditions(batch, "flaky").get("Failed"), what="Failed")
    assert failed.reason == "BackoffLimitExceeded"
    # The pod restarted in place, then was deleted when the Job failed.
    assert job_pods(core, "flaky") == []
    assert any(reason == "SuccessfulDelete" for _, reason, _ in events(core, "Job", "flaky"))


def test_job_past_its_deadline_fails_and_loses_its_pods(core: Any, batch: Any) -> None:
    batch.create_namespaced_job(NS, job("slow", "sleep 3600", activeDeadlineSeconds=10))
    failed = wait_for(lambda: conditions(batch, "slow").get("Failed"), what="Failed")
    assert failed.reason == "DeadlineExceeded"
    assert failed.message == "Job was active longer than specified deadline"
    assert ("Warning", "DeadlineExceeded", failed.message) in events(core, "Job", "slow")
    assert job_pods(core, "slow") == []


def test_succeeding_job_completes(core: Any, batch: Any) -> None:
    batch.create_namespaced_job(NS, job("report", "echo done", completions=2))
    complete = wait_for(lambda: conditions(batch, "report").get("Complete"), what="Complete")
    assert complete.reason == "CompletionsReached"
    status = batch.read_namespaced_job("report", NS).status
    assert status.succeeded == 2 and status.completion_time is not None
    assert ("Normal", "Completed", "Job completed") in events(core, "Job", "report")
    assert [p.status.phase for p in job_pods(core, "report")] == ["Succeeded", "Succeeded"]


def test_job_template_must_not_restart_always(batch: Any) -> None:
    with pytest.raises(client.ApiException) as raised:
        batch.create_namespaced_job(NS, job("bad", "echo", restart="Always"))
    assert raised.value.status == 422
    assert json.loads(raised.value.body)["message"] == (
        'Job.batch "bad" is invalid: spec.template.spec.restartPolicy: Unsupported value: '
        '"Always": supported values: "OnFailure", "Never"'
    )


def test_job_made_from_the_demo_cronjob_runs_under_it(
    kubeconfig: Path, core: Any, batch: Any
) -> None:
    cronjob = batch.read_namespaced_cron_job("nightly-report", NS)
    assert cronjob.spec.schedule == "0 2 * * *"
    # What `kubectl create job report-now --from=cronjob/nightly-report` posts (kubectl's own
    # POST is protobuf, which the stand-in does not decode).
    batch.create_namespaced_job(
        NS,
        {
            "metadata": {
                "name": "report-now",
                "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
                "labels": cronjob.spec.job_template.metadata.labels,
                "ownerReferences": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "CronJob",
                        "name": "nightly-report",
                        "uid": cronjob.metadata.uid,
                        "controller": True,
                    }
                ],
            },
            "spec": batch.api_client.sanitize_for_serialization(cronjob.spec.job_template.spec),
        },
    )
    complete = wait_for(lambda: conditions(batch, "report-now").get("Complete"), what="Complete")
    assert complete.reason == "CompletionsReached"
    assert (
        "Warning",
        "UnexpectedJob",
        "Saw a job that the controller did not create or forgot: report-now",
    ) in events(core, "CronJob", "nightly-report")
    listing = kubectl(kubeconfig, "get", "jobs", "-n", NS)
    row = next(line for line in listing.stdout.splitlines() if line.startswith("report-now"))
    assert row.split()[1:3] == ["Complete", "1/1"]
    # Deleting the CronJob takes its Jobs, and their pods, with it.
    batch.delete_namespaced_cron_job("nightly-report", NS)
    wait_for(lambda: not job_pods(core, "report-now"), what="pods collected")
    assert [j.metadata.name for j in batch.list_namespaced_job(NS).items] == []


def test_trigger_runs_a_cronjob_now(sandbox: KubeSandbox, core: Any, batch: Any) -> None:
    made = trigger(sandbox.store, NS, "nightly-report", "report-manual")
    assert made["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    wait_for(lambda: conditions(batch, "report-manual").get("Complete"), what="Complete")
    pods = job_pods(core, "report-manual")
    assert len(pods) == 1
    assert core.read_namespaced_pod_log(pods[0].metadata.name, NS) == "nightly report written\n"
    # Deleting the Job takes its pod with it.
    batch.delete_namespaced_job("report-manual", NS)
    wait_for(lambda: not job_pods(core, "report-manual"), what="pods collected")
