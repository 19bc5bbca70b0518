"""The investigation's prompt shows the workload's metrics when the context carries them,
and stays as it was when it does not."""

from __future__ import annotations

import json
from pathlib import Path

from selfheal.activities.claude.prompt import render_context
from selfheal.snapshots import load_snapshot

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def test_the_prompt_shows_the_metrics_only_when_they_were_read():
    context = load_snapshot(SCENARIOS / "cpu_throttling" / "pinned_at_10m")
    shown = json.loads(render_context(context))
    (container,) = shown["metrics"]["containers"]
    assert container["container"] == "checkout"
    assert container["cpu_throttled_ratio"][-1][1] == 1.0
    context.metrics = None
    assert "metrics" not in json.loads(render_context(context))
