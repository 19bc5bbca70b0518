"""`selfheal diagnose --snapshot` on workloads that are not Deployments."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from selfheal.cli.app import app
from selfheal.snapshots import read_objects, write_snapshot

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
runner = CliRunner()


def test_a_bare_pod_is_diagnosed_without_a_traceback_and_gets_no_fix() -> None:
    result = runner.invoke(
        app, ["diagnose", "--snapshot", str(SCENARIOS / "oom_killed" / "pod_bare_oom"), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["workload"] == {"kind": "Pod", "namespace": "shop", "name": "debug-shell"}
    assert report["category"] == "oom_killed"
    assert report["fix"]["kind"] == "none" and "bare Pod" in report["fix"]["rationale"]


def test_workload_names_a_kind_and_a_name() -> None:
    snapshot = SCENARIOS / "job_failed" / "cronjob_backoff_limit"
    result = runner.invoke(
        app,
        ["diagnose", "--snapshot", str(snapshot), "--workload", "cronjob/nightly-report", "--json"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["workload"]["kind"] == "CronJob"


def test_an_ambiguous_snapshot_exits_1_naming_the_candidates(tmp_path: Path) -> None:
    objects = [
        *read_objects(SCENARIOS / "oom_killed" / "pod_bare_oom"),
        *read_objects(SCENARIOS / "crash_loop" / "daemonset_crash_loop"),
    ]
    write_snapshot(tmp_path, objects, {}, {})
    result = runner.invoke(app, ["diagnose", "--snapshot", str(tmp_path)])
    assert result.exit_code == 1
    assert "Pod/debug-shell" in result.output and "DaemonSet/log-agent" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_kind_is_a_usage_error() -> None:
    snapshot = SCENARIOS / "oom_killed" / "pod_bare_oom"
    result = runner.invoke(app, ["diagnose", "--snapshot", str(snapshot), "--workload", "widget/x"])
    assert result.exit_code == 2
