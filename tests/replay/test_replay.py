"""Recorded histories still replay: workflow changes that break running incidents fail here."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from selfheal.workflows.guard import GUARD_WORKFLOWS
from selfheal.workflows.incident import IncidentWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_histories_are_recorded() -> None:
    assert {path.stem for path in HISTORIES} >= {
        "gitops-approved",
        "direct-rejected-retried",
        "guard",
        "ledger",
    }


@pytest.mark.parametrize("path", HISTORIES, ids=[path.stem for path in HISTORIES])
async def test_history_replays_on_current_code(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(
        workflows=[IncidentWorkflow, *GUARD_WORKFLOWS], data_converter=pydantic_data_converter
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
