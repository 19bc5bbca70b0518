"""A DaemonSet rolled to a bad image, patched live (no git), is rolled back in direct mode.

`selfheal chaos inject daemonset-bad-image --via cluster` changes the live DaemonSet, as a
`kubectl set image` would; in direct mode selfheal proposes rolling its template back to the
image its previous ControllerRevision ran, a person approves, and the worker patches the
DaemonSet through the Kubernetes API. Its own stack, since the shared one runs gitops.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from kubernetes import client as k8s

from selfheal.chaos.injection import clear, inject
from selfheal.client import decisions
from selfheal.model.decisions import Approval
from selfheal.model.incident import IncidentState
from selfheal_lab.demo import now
from selfheal_lab.watch import incident_about
from tests.e2e.follow import FINAL_STATES, NAMESPACE, wait_for_state, wait_until_healthy
from tests.e2e.stack import RunningStack, start_stack
from tests.e2e.test_chaos_scenarios import post_when_visible

GOOD_IMAGE = "registry.sandbox.local/library/fluent-bit:3.1"


@pytest.fixture(scope="module")
def direct_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("direct-stack"), SELFHEAL_MODE="direct")
    yield running
    running.stack.down()


async def test_a_daemonset_on_a_bad_image_is_rolled_back_in_direct_mode(
    direct_stack: RunningStack,
):
    api = direct_stack.kubernetes()
    client = await direct_stack.client()
    since = now()
    injection = await asyncio.to_thread(inject, api, "daemonset-bad-image")
    await post_when_visible(direct_stack, injection)
    incident_id = await incident_about(client, "log-agent", since)
    status = await wait_for_state(
        client, incident_id, FINAL_STATES | {IncidentState.AWAITING_APPROVAL}
    )
    assert status.state == IncidentState.AWAITING_APPROVAL, status.escalation_reason
    await decisions.approve(client, incident_id, Approval(by="e2e-approver", comment="ok"))
    status = await wait_for_state(client, incident_id, FINAL_STATES)

    assert status.state == IncidentState.RESOLVED, status.escalation_reason
    assert status.diagnosis is not None and status.diagnosis.category.value == "image_pull"
    assert status.fix is not None and status.fix.kind.value == "rollback_image"
    assert status.fix.workload_kind == "DaemonSet" and status.pr_url is None
    await wait_until_healthy(api, "log-agent", timeout=60, kind="DaemonSet")
    live = api.sanitize_for_serialization(
        k8s.AppsV1Api(api).read_namespaced_daemon_set("log-agent", NAMESPACE)
    )
    assert [c["image"] for c in live["spec"]["template"]["spec"]["containers"]] == [GOOD_IMAGE]
    assert await asyncio.to_thread(clear, api, NAMESPACE, "log-agent") == "daemonset-bad-image"
