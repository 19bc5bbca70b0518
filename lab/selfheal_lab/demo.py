"""`selfheal demo`: one chaos scenario through the whole loop on the sandbox.

The real path runs: Prometheus scrapes the sandbox, its rule fires and Alertmanager posts
the webhook (where they are not installed, the sandbox's alert monitor posts it); the
webhook starts the incident; the worker analyses, proposes and opens the pull request and
posts the decision message to Slack (the sandbox's stand-in); the demo clicks its Approve
button as alice, which the stand-in signs and posts to the webhook exactly as Slack does;
the GitOps sync deploys the merge; the worker verifies and resolves. Without a decision
message (Slack not in the stack) it approves as `selfheal approve` does.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from rich.console import Console
from temporalio.client import Client

from selfheal.cli.render import print_status
from selfheal.client import decisions
from selfheal.client.incidents import incident_ui_url
from selfheal.model.decisions import Approval
from selfheal.model.incident import IncidentState, IncidentStatus
from selfheal.settings import Settings
from selfheal_lab.sandbox.slack.control import ClickAnswer, PostedMessage, SlackControl, member
from selfheal_lab.watch import incident_about

DEMO_APPROVER = "demo-approver"
SLACK_APPROVER = "alice"
"""The sandbox's Slack member who clicks Approve (anyone may approve in the sandbox)."""
SLACK_PATIENCE = 45.0
"""Seconds to wait for the decision message, then for the click to count, before the demo
approves as the CLI would instead (so a slow Slack never leaves the demo waiting)."""
FINAL_STATES = (IncidentState.RESOLVED, IncidentState.ESCALATED)


@dataclass
class DemoOutcome:
    """How the demo ended: the incident (if one opened) and whether it resolved."""

    resolved: bool
    message: str
    status: IncidentStatus | None = None


async def close_stale_incidents(client: Client, namespace: str) -> int:
    """Terminate running incidents of the sandbox namespace left by an earlier demo run.

    Their sandbox was just started afresh, so they describe a cluster that no longer exists;
    left open, a new alert about the same workload would join them instead of starting anew.
    """
    query = (
        "WorkflowType = 'IncidentWorkflow' AND ExecutionStatus = 'Running' "
        f"AND IncidentNamespace = '{namespace}'"
    )
    stale = [execution.id async for execution in client.list_workflows(query)]
    for incident_id in stale:
        await client.get_workflow_handle(incident_id).terminate(
            reason="the sandbox was restarted by `selfheal demo`"
        )
    return len(stale)


async def follow_incident(
    client: Client,
    settings: Settings,
    console: Console,
    deployment: str,
    since: datetime,
    timeout: float,
    slack: SlackControl | None = None,
    alerts_by: str = "the monitor",
) -> DemoOutcome:
    """Wait for the incident (its alert raised by `alerts_by`), approve its fix with a
    click in `slack` (else as the CLI would), and follow it to the end."""
    deadline = time.monotonic() + timeout
    console.print(f"waiting for {alerts_by}'s alert about [bold]{deployment}[/] …")
    try:
        incident_id = await incident_about(client, deployment, since, timeout)
    except TimeoutError:
        return DemoOutcome(False, f"no incident opened for {deployment} within {timeout:.0f}s")
    ui_url = incident_ui_url(settings.temporal_ui_url, client.namespace, incident_id)
    # Links and commands are printed whole (soft_wrap) so they stay clickable and copyable
    # when the output is not a terminal of known width.
    console.print(f"incident [bold]{incident_id}[/] opened: {ui_url}", soft_wrap=True)
    shown = 0
    approver = Approver(client, console, incident_id, slack)
    status: IncidentStatus | None = None
    while time.monotonic() < deadline:
        status = await decisions.read_status(client, incident_id)
        for entry in status.timeline[shown:]:
            console.print(
                f"  {entry.at:%H:%M:%S} {entry.state.value:<18} {entry.note}", markup=False
            )
        shown = len(status.timeline)
        if status.state in FINAL_STATES:
            break
        if status.state in (IncidentState.AWAITING_REVIEW, IncidentState.AWAITING_APPROVAL):
            await approver.decide(status)
        await asyncio.sleep(1)
    if status is None or status.state not in FINAL_STATES:
        state = status.state.value if status else "unknown"
        return DemoOutcome(False, f"{incident_id} still {state} after {timeout:.0f}s", status)
    console.print()
    print_status(console, status, ui_url)
    for approval in status.approvals:
        if approval.accepted:
            where = "in Slack" if approval.channel == "slack" else f"through {approval.channel}"
            console.print(f"approved {where} by [bold]{approval.by}[/]", soft_wrap=True)
    if slack is not None:
        await show_final_message(console, slack, incident_id, status.state)
    console.print(timings(since, status), markup=False)
    if status.state == IncidentState.RESOLVED:
        return DemoOutcome(True, f"{incident_id} RESOLVED: {status.resolution}", status)
    return DemoOutcome(
        False,
        f"{incident_id} ended ESCALATED: {status.escalation_reason} — selfheal found no safe "
        "automatic fix and handed it to a person, as it should for this scenario",
        status,
    )


def timings(fault: datetime, status: IncidentStatus) -> str:
    """How long from the fault to the first alert, and to the end: `fault -> alert 31.2s ->
    RESOLVED 64.0s`."""
    alerted = (status.timeline[0].at - fault).total_seconds()
    ended = (status.timeline[-1].at - fault).total_seconds()
    return f"fault -> alert {alerted:.1f}s -> {status.state.value} {ended:.1f}s"


async def show_final_message(
    console: Console, slack: SlackControl, incident_id: str, state: IncidentState
) -> None:
    """Print the incident's Slack message once it shows how the incident ended."""
    for _ in range(20):  # its update follows the incident's last transition by a moment
        try:
            posted = await asyncio.to_thread(slack.decision_messages, incident_id)
        except httpx.HTTPError:
            return
        if not posted:  # it never waited for a person (escalated first): no message
            return
        if state.value in posted[-1].text:
            message = posted[-1]
            console.print(
                f"Slack message updated: {message.text} ({len(message.replies)} replies in its "
                "thread)",
                markup=False,
                soft_wrap=True,
            )
            return
        await asyncio.sleep(0.5)


class Approver:
    """Approves the incident's fix as a person would: Approve on its Slack decision message,
    or `selfheal approve` when Slack shows none or the click does not count in time."""

    def __init__(
        self, client: Client, console: Console, incident_id: str, slack: SlackControl | None
    ) -> None:
        self._client = client
        self._console = console
        self._incident_id = incident_id
        self._slack = slack
        self._since = time.monotonic()
        self._clicked_at: float | None = None
        self._done = False

    async def decide(self, status: IncidentStatus) -> None:
        """One step of deciding, called while the incident waits for a person."""
        if self._done:
            return
        patience_over = time.monotonic() - self._since > SLACK_PATIENCE
        if self._clicked_at is None and self._slack is not None and not patience_over:
            message = await self._decision_message()
            if message is not None:
                await self._click(message, status)
            return
        if self._clicked_at is not None and time.monotonic() - self._clicked_at < SLACK_PATIENCE:
            return  # the click is on its way (the webhook answers Slack before it is decided)
        if self._slack is None:
            why = "Slack is not part of this stack"
        elif self._clicked_at is None:
            why = f"Slack showed no decision message within {SLACK_PATIENCE:.0f}s"
        else:
            why = f"the Slack click did not count within {SLACK_PATIENCE:.0f}s"
        await self._approve_as_cli(status, why)

    async def _decision_message(self) -> PostedMessage | None:
        assert self._slack is not None
        try:
            posted = await asyncio.to_thread(self._slack.decision_messages, self._incident_id)
        except httpx.HTTPError:
            return None
        return next((m for m in reversed(posted) if "approve" in m.buttons), None)

    async def _click(self, message: PostedMessage, status: IncidentStatus) -> None:
        assert self._slack is not None
        console = self._console
        console.print("\n[bold]Slack #incidents[/] (the sandbox's stand-in):")
        console.print(f"  {message.text}", markup=False, soft_wrap=True)
        if message.proposal:
            console.print(
                f"  proposal {message.proposal} · buttons: Approve / Reject", markup=False
            )
        console.print(
            f"clicking [bold]Approve[/] as Slack user {SLACK_APPROVER} "
            f"({member(SLACK_APPROVER)}); the click is signed and posted to the webhook as "
            "Slack does",
            soft_wrap=True,
        )
        self._show_cli_equivalent(status)
        try:
            answer = await asyncio.to_thread(
                self._slack.click, member(SLACK_APPROVER), "approve", message.ts
            )
        except httpx.HTTPError as failure:
            answer = ClickAnswer(delivered=False, status=None, answer={}, error=str(failure))
        if not answer.delivered or answer.status != 200:
            console.print(f"the click was not delivered: {answer.status or ''} {answer.note}")
            await self._approve_as_cli(status, "the Slack click was not delivered")
            return
        who = answer.answer.get("person") or SLACK_APPROVER
        console.print(f"selfheal answered the click by {who}: {answer.note}", markup=False)
        if not answer.decided and not answer.answer.get("note", "").startswith("still deciding"):
            await self._approve_as_cli(status, "the Slack click decided nothing")
            return
        self._clicked_at = time.monotonic()

    def _show_cli_equivalent(self, status: IncidentStatus) -> None:
        proposal = f" --proposal {status.fix.digest}" if status.fix else ""
        self._console.print(
            f"  (the same from a terminal: [bold]selfheal approve {self._incident_id} "
            f"--by you{proposal}[/])\n",
            soft_wrap=True,
        )

    async def _approve_as_cli(self, status: IncidentStatus, why: str) -> None:
        self._done = True
        self._console.print(
            f"{why}; approving as a person would: [bold]selfheal approve {self._incident_id} "
            f"--by {DEMO_APPROVER}[/]",
            soft_wrap=True,
        )
        try:
            await decisions.approve(
                self._client,
                self._incident_id,
                Approval(by=DEMO_APPROVER, comment="approved by selfheal demo", channel="cli"),
            )
        except decisions.Refused as refused:  # a late Slack approval got there first
            self._console.print(f"not needed: {refused}", markup=False)


def now() -> datetime:
    """The current time, for matching incidents started after the injection."""
    return datetime.now(UTC)
