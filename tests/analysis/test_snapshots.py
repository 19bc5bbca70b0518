"""Snapshot directories round-trip, and the context respects its size bound."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from temporalio.testing import ActivityEnvironment

from selfheal.activities.analysis import diagnose_context
from selfheal.activities.analysis.activities import AnalysisActivities
from selfheal.contracts.analysis import DiagnosisRequest
from selfheal.model.alerts import Alert
from selfheal.model.diagnosis import DiagnosisCategory
from selfheal.settings import Settings
from selfheal.snapshots import (
    context_from_objects,
    context_objects,
    load_snapshot,
    read_objects,
    write_snapshot,
)

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
OOM = SCENARIOS / "oom_killed" / "hidden_behind_crashloop"


def test_snapshot_round_trips_through_a_directory(tmp_path: Path) -> None:
    original = load_snapshot(OOM)
    write_snapshot(tmp_path, context_objects(original), original.logs, original.previous_logs)

    document = yaml.safe_load((tmp_path / "objects.yaml").read_text())
    assert document["kind"] == "List" and document["apiVersion"] == "v1"
    kinds = {item["kind"] for item in document["items"]}
    assert kinds == {"Deployment", "ReplicaSet", "Pod", "Event"}
    pod = original.pods[0]["metadata"]["name"]
    assert (tmp_path / "logs" / pod / "checkout.previous.txt").exists()

    reloaded = load_snapshot(tmp_path)
    assert reloaded.model_dump() == original.model_dump()
    assert diagnose_context(None, reloaded).category == DiagnosisCategory.OOM_KILLED


def test_objects_of_other_namespaces_and_workloads_are_left_out() -> None:
    objects = read_objects(OOM)
    stranger = yaml.safe_load(yaml.safe_dump(objects[0]))
    stranger["metadata"]["namespace"] = "payments"
    context = context_from_objects([*objects, stranger], {}, {}, "shop", "checkout")
    assert context.deployment is not None and context.deployment["metadata"]["namespace"] == "shop"
    empty = context_from_objects(objects, {}, {}, "shop", "no-such-app")
    assert empty.deployment is None and not empty.pods and not empty.events


def test_size_bound_trims_logs_then_events_and_keeps_failing_pods() -> None:
    objects = read_objects(SCENARIOS / "oom_killed" / "running_after_oom")
    pods = [o for o in objects if o["kind"] == "Pod"]
    failing = next(
        p["metadata"]["name"] for p in pods if p["status"]["containerStatuses"][0]["restartCount"]
    )
    line = "2025-06-03T14:00:00Z INFO processed request id=42 status=200 duration=12ms\n"
    logs = {f"{p['metadata']['name']}/search": line * 2000 for p in pods}
    full = context_from_objects(objects, logs, {}, "shop", "search", max_bytes=10**7)
    assert not full.truncated

    logs_cut = context_from_objects(objects, logs, {}, "shop", "search", max_bytes=20_000)
    assert logs_cut.truncated and len(logs_cut.model_dump_json()) <= 20_000
    assert len(logs_cut.pods) == 2 and logs_cut.events
    assert all(0 < len(text) < len(line) * 2000 for text in logs_cut.logs.values())
    assert all(text.endswith(line) for text in logs_cut.logs.values()), "the newest lines stay"

    tight = context_from_objects(objects, logs, {}, "shop", "search", max_bytes=8_000)
    assert len(tight.model_dump_json()) <= 8_000
    assert not tight.logs and not tight.events
    assert [p["metadata"]["name"] for p in tight.pods] == [failing], "the failing pod stays"
    assert diagnose_context(None, tight).category == DiagnosisCategory.OOM_KILLED


def test_snapshot_with_two_deployments_needs_a_name(tmp_path: Path) -> None:
    objects = read_objects(OOM)
    twin = yaml.safe_load(yaml.safe_dump(objects[0]))
    twin["metadata"]["name"] = "checkout-canary"
    write_snapshot(tmp_path, [*objects, twin], {}, {})
    with pytest.raises(ValueError, match="name the namespace and deployment"):
        load_snapshot(tmp_path)
    assert load_snapshot(tmp_path, workload="checkout").workload == "checkout"


def test_log_paths_cannot_escape_the_snapshot(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_snapshot(tmp_path, [], {"../../etc/x": "boom"}, {})


async def test_diagnose_activity_runs_the_rules() -> None:
    context = load_snapshot(SCENARIOS / "config_error" / "missing_secret")
    request = DiagnosisRequest(
        incident_id="inc-billing-x-1",
        alert=Alert(name="KubePodNotReady", namespace="shop", workload="billing"),
        context=context,
    )
    activities = AnalysisActivities(Settings(_env_file=None))  # type: ignore[call-arg]
    diagnosis = await ActivityEnvironment().run(activities.diagnose, request)
    assert diagnosis.category == DiagnosisCategory.CONFIG_ERROR
    assert diagnosis.analyzer == "rules"


def test_size_bound_holds_to_the_byte_whatever_the_bound() -> None:
    """The bound is a promise, not an estimate: sweep it across the range where pods, logs
    and events are all being cut (a list's last item has no comma; a map's entry no braces)."""
    objects = read_objects(SCENARIOS / "oom_killed" / "running_after_oom")
    templates = [o for o in objects if o["kind"] == "Pod"]
    others = [o for o in objects if o["kind"] != "Pod"]
    pods = []
    for number in range(40):
        pod = yaml.safe_load(yaml.safe_dump(templates[number % len(templates)]))
        pod["metadata"]["name"] = f"search-{number:02d}"
        pods.append(pod)
    logs = {
        f"search-{number:02d}/search": f"line {number}\n" * (number * 7) for number in range(40)
    }
    full = context_from_objects([*others, *pods], logs, dict(logs), "shop", "search")
    size = len(full.model_dump_json().encode())

    for max_bytes in range(size // 20, size, max(1, size // 41)):
        bounded = context_from_objects(
            [*others, *pods], logs, dict(logs), "shop", "search", max_bytes
        )
        assert len(bounded.model_dump_json().encode()) <= max_bytes, max_bytes
        assert bounded.truncated and bounded.pods
