"""The whole GitOps loop on the sandbox, through the real processes of `selfheal up`."""

from __future__ import annotations

from rich.console import Console

from selfheal.chaos.through_git import inject_through_repository
from selfheal.domain import FixKind, IncidentState
from selfheal.settings import load_settings
from selfheal.starters.demo import follow_incident, now
from tests.e2e.stack import RunningStack


async def test_oom_is_fixed_by_a_minimal_pull_request_and_resolves(sandbox_stack: RunningStack):
    github = sandbox_stack.github()
    repo = github.get_repo(sandbox_stack.info.github["repo"])
    since = now()
    inject_through_repository(sandbox_stack.kubernetes(), repo, "oom", deployment="payments")
    client = await sandbox_stack.client()
    settings = load_settings(temporal_ui_url=f"http://127.0.0.1:{sandbox_stack.ports.temporal_ui}")
    outcome = await follow_incident(
        client, settings, Console(quiet=True), "payments", since, timeout=180
    )
    assert outcome.resolved, outcome.message
    status = outcome.status
    assert status is not None and status.state == IncidentState.RESOLVED
    assert status.fix is not None and status.fix.kind == FixKind.INCREASE_MEMORY
    pull = repo.get_pull(status.pr_number or 0)
    assert pull.merged
    files = list(pull.get_files())
    assert [f.filename for f in files] == ["apps/payments/deployment.yaml"]
    changed = [line for line in (files[0].patch or "").splitlines() if line[:1] in "+-"]
    changed = [line for line in changed if not line.startswith(("+++", "---"))]
    assert all("memory" in line for line in changed), changed
