"""No secret planted in the incident reaches the model or a log line, whichever tool is used."""

from __future__ import annotations

import logging

import pytest
from temporalio.testing import WorkflowEnvironment

from selfheal_lab.sandbox.anthropic_fake import submit, tool_use
from tests.claude import incident
from tests.claude.fake_model import FakeModel


async def test_canary_secrets_never_reach_the_model_or_the_logs(
    time_skipping_env: WorkflowEnvironment,
    model: FakeModel,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)  # the SDK logs whole requests at debug level
    fake = model.fake
    fake.on_turn(1, tool_use("container_logs", {"pod": incident.POD, "container": "app"}))
    fake.on_turn(
        2,
        tool_use("container_logs", {"pod": incident.POD, "container": "app", "previous": True}),
    )
    fake.on_turn(3, tool_use("events", {"object_name": incident.POD}))
    fake.on_turn(4, tool_use("rollout_revision", {"revision": 1}))
    fake.on_turn(5, submit(incident.oom_submission()))

    result = await model.investigate(time_skipping_env, incident.request())

    assert result.diagnosis is not None
    sent = fake.all_bodies_text()
    assert len(fake.requests) == 5
    # What the model needs got through; only the secrets did not.
    for needed in ("OOMKilled", "catalogue size 212MiB", "DB_PASSWORD", "Back-off restarting"):
        assert needed in sent
    assert "[REDACTED]" in sent
    assert "checkout-db" in sent and "config.json" in sent  # Secret names and keys, no values
    captured = capfd.readouterr()
    logged = caplog.text + captured.out + captured.err
    assert "model turn" in logged
    for where, canary in incident.CANARIES.items():
        assert canary not in sent, f"{where} canary reached the model"
        assert canary not in logged, f"{where} canary reached a log line"
