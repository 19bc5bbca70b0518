"""The loop through real Prometheus and Alertmanager (issue 18), in gitops mode.

`selfheal up` runs Debian's prometheus and prometheus-alertmanager beside the sandbox when
they are installed (`make test` installs them as root; elsewhere the stack fails with the
install command): Prometheus scrapes the sandbox's kube-state-metrics, cAdvisor and app
series, evaluates selfheal's rules, and Alertmanager posts what fires to the webhook. Nothing
here posts an alert by hand.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import httpx
import pytest

from selfheal.chaos.through_git import inject_through_repository
from selfheal.client import decisions
from selfheal.client.listing import list_incidents
from selfheal.model.decisions import Approval
from selfheal.model.incident import IncidentState, IncidentStatus
from selfheal_lab.demo import now, timings
from selfheal_lab.watch import eventually, incident_about
from tests.e2e.follow import FINAL_STATES, wait_for_state, wait_until_healthy
from tests.e2e.stack import RunningStack, start_stack


@pytest.fixture(scope="module")
def prometheus_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(
        tmp_path_factory.mktemp("prometheus-stack"),
        prometheus=True,
        # The rules look back up to a minute, so a fixed symptom takes that long to leave them.
        SELFHEAL_ALERT_CLEAR_TIMEOUT="120s",
    )
    yield running
    running.stack.down()


def test_up_reports_the_real_alert_path_and_reuses_it(prometheus_stack: RunningStack):
    before = dict(prometheus_stack.info.pids)
    ran = prometheus_stack.cli("up")
    assert ran.returncode == 0, ran.stderr
    assert "alerts        real Prometheus -> Alertmanager -> webhook" in ran.stdout
    assert f"prometheus    {prometheus_stack.info.prometheus['url']}" in ran.stdout
    recorded = json.loads(prometheus_stack.stack.layout.stack_file.read_text())
    assert recorded["pids"] == before, "up started a second stack"
    home = prometheus_stack.stack.layout.home
    config = (home / "alertmanager" / "alertmanager.yml").read_text()
    assert "/webhooks/alertmanager" in config and "Bearer" in config
    assert "CPUThrottlingHigh" in (home / "prometheus" / "rules.yml").read_text()
    wanted = {"kube-state-metrics": "up", "kubelet": "up", "apps": "up"}
    jobs: dict[str, str] = {}
    deadline = time.monotonic() + 30  # a Prometheus just started has not scraped yet
    while jobs != wanted and time.monotonic() < deadline:
        answer = httpx.get(f"{recorded['prometheus']['url']}/api/v1/targets", timeout=10)
        jobs = {t["labels"]["job"]: t["health"] for t in answer.json()["data"]["activeTargets"]}
        time.sleep(0.5)
    assert jobs == wanted, jobs


def active_alerts(stack: RunningStack, name: str, workload_label: str) -> list[object]:
    """Alertmanager's active alerts called `name` whose labels mention `workload_label`."""
    answer = httpx.get(
        f"{stack.info.alertmanager['url']}/api/v2/alerts",
        params={"filter": f'alertname="{name}"', "active": "true"},
        timeout=10,
    )
    answer.raise_for_status()
    return [a for a in answer.json() if workload_label in str(a["labels"])]


@dataclass
class Paged:
    """An incident a scenario opened through Prometheus, waiting for its review."""

    since: datetime
    incident_id: str
    status: IncidentStatus


async def page_through_git(stack: RunningStack, scenario: str, workload: str) -> Paged:
    """Break `workload` with `scenario` in the manifest repository; return the incident
    Prometheus' alert opened once it waits for review."""
    api, client = stack.kubernetes(), await stack.client()
    repo = stack.github().get_repo(stack.info.github["repo"])
    since = now()
    injected = await asyncio.to_thread(inject_through_repository, api, repo, scenario)
    assert injected.workload == workload
    incident_id = await incident_about(client, workload, since, timeout=120)
    status = await wait_for_state(
        client, incident_id, FINAL_STATES | {IncidentState.AWAITING_REVIEW}
    )
    assert status.state == IncidentState.AWAITING_REVIEW, status.escalation_reason
    return Paged(since, incident_id, status)


async def approve_until_ended(stack: RunningStack, paged: Paged) -> IncidentStatus:
    """Approve the proposal under review and return the incident once it has ended."""
    client = await stack.client()
    assert paged.status.fix is not None
    approval = Approval(by="e2e-approver", proposal=paged.status.fix.digest, channel="cli")
    await decisions.approve(client, paged.incident_id, approval)
    return await wait_for_state(client, paged.incident_id, FINAL_STATES, timeout=240)


async def test_cpu_throttling_pages_through_prometheus_and_resolves_once_its_alert_clears(
    prometheus_stack: RunningStack,
):
    stack = prometheus_stack
    assert stack.info.alerts["source"] == "prometheus"
    paged = await page_through_git(stack, "cpu-throttling", "catalog")
    since, incident_id, status = paged.since, paged.incident_id, paged.status
    assert "CPUThrottlingHigh" in status.alert_names
    assert "from alertmanager" in status.timeline[0].note
    assert status.diagnosis is not None and status.diagnosis.category.value == "cpu_throttling"
    assert any("CFS periods throttled" in e.detail for e in status.diagnosis.evidence)
    assert status.fix is not None and status.fix.kind.value == "increase_cpu"
    assert [(c.before, c.after) for c in status.fix.changes] == [("10m", "20m"), ("10m", "20m")]

    status = await approve_until_ended(stack, paged)

    assert status.state == IncidentState.RESOLVED, status.escalation_reason
    resolution = status.resolution or ""
    assert "the symptom cleared for demo/catalog" in resolution, resolution
    assert "CPUThrottlingHigh returns no series for it" in resolution, resolution
    print(f"cpu-throttling through Prometheus: {timings(since, status)}")

    # Alertmanager's resolved notification went to the closed incident; nothing new opened.
    await eventually(
        lambda: _none_active(stack, "CPUThrottlingHigh", "catalog"),
        "Alertmanager to resolve CPUThrottlingHigh",
        60,
    )
    client = await stack.client()
    settled = time.monotonic() + 6  # three of Alertmanager's 2s group intervals
    while time.monotonic() < settled:
        opened = [
            incident.id
            for incident in await list_incidents(client, service="catalog", limit=20)
            if incident.started_at and incident.started_at >= since
        ]
        assert opened == [incident_id], f"a resolved alert opened {opened}"
        await asyncio.sleep(1)
    await wait_until_healthy(stack.kubernetes(), "catalog", timeout=60)


async def test_a_statefulset_oom_pages_through_prometheus_with_no_alert_posted_by_hand(
    prometheus_stack: RunningStack,
):
    """The sandbox's own monitor follows Deployments only; Prometheus' rules read any pod."""
    stack = prometheus_stack
    paged = await page_through_git(stack, "statefulset-oom", "ledger")
    status = paged.status
    assert {"KubePodCrashLooping", "KubeContainerOOMKilled"} & set(status.alert_names)
    assert status.diagnosis is not None and status.diagnosis.category.value == "oom_killed"
    assert status.fix is not None and status.fix.workload_kind == "StatefulSet"
    assert status.pr_url is not None
    repo = stack.github().get_repo(stack.info.github["repo"])
    pull = repo.get_pull(int(status.pr_url.rsplit("/", 1)[-1]))
    assert [f.filename for f in pull.get_files()] == ["apps/ledger/statefulset.yaml"]
    status = await approve_until_ended(stack, paged)

    assert status.state == IncidentState.RESOLVED, status.escalation_reason
    assert "the symptom cleared for demo/ledger" in (status.resolution or "")
    print(f"statefulset-oom through Prometheus: {timings(paged.since, status)}")
    await wait_until_healthy(stack.kubernetes(), "ledger", timeout=90, kind="StatefulSet")


async def _none_active(stack: RunningStack, name: str, workload: str) -> bool | None:
    """True once Alertmanager holds no such alert (None while it does, for `eventually`)."""
    return None if await asyncio.to_thread(active_alerts, stack, name, workload) else True


async def test_the_demo_runs_through_prometheus_and_ends_resolved(
    prometheus_stack: RunningStack,
):
    ran = await asyncio.to_thread(
        prometheus_stack.cli, "demo", "--scenario", "oom", "--timeout", "240", timeout=330
    )
    out = ran.stdout
    assert ran.returncode == 0, f"{out}\n{ran.stderr}"
    assert "alerts        real Prometheus -> Alertmanager -> webhook" in out, out
    assert "waiting for Prometheus's alert about checkout" in out, out
    assert re.search(r"inc-checkout-\S+ RESOLVED", out), out
    assert "from alertmanager" in out, out
    timing = re.search(r"fault -> alert ([\d.]+)s -> RESOLVED ([\d.]+)s", out)
    assert timing, out
    print(f"the demo through Prometheus: {timing[0]}")
