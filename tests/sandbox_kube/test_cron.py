"""Cron schedules and the CronJob controller on a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from selfheal_lab.sandbox.kube import defaults
from selfheal_lab.sandbox.kube.cron import ScheduleError, parse
from selfheal_lab.sandbox.kube.cronjobs import CronJobController
from selfheal_lab.sandbox.kube.events import EventRecorder
from selfheal_lab.sandbox.kube.resources import CRONJOBS, EVENTS, JOBS, NAMESPACES
from selfheal_lab.sandbox.kube.store import Obj, Store


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 2 * * *", "2026-12-05 01:59", "2026-12-05 02:00"),
        ("0 2 * * *", "2026-12-05 02:00", "2026-12-06 02:00"),
        ("*/15 * * * *", "2026-12-05 10:07", "2026-12-05 10:15"),
        ("30 9 * * mon-fri", "2026-12-05 10:00", "2026-12-07 09:30"),  # Saturday to Monday
        ("0 0 1 jan *", "2026-12-05 10:00", "2027-01-01 00:00"),
        ("0 0 13 * 5", "2026-12-05 10:00", "2026-12-11 00:00"),  # day 13 OR a Friday
        ("@hourly", "2026-12-31 23:30", "2027-01-01 00:00"),
        ("0 12 29 2 *", "2026-03-01 00:00", "2028-02-29 12:00"),
        ("5,10-12 3 * * 0", "2026-12-05 00:00", "2026-12-06 03:05"),
    ],
)
def test_next_run(expression: str, after: str, expected: str) -> None:
    assert parse(expression).next_after(at(after)) == at(expected)


@pytest.mark.parametrize("expression", ["* * * *", "61 * * * *", "0 2 * * funday", "5-1 * * * *"])
def test_invalid_schedules_are_refused(expression: str) -> None:
    with pytest.raises(ScheduleError):
        parse(expression)


class Clock:
    def __init__(self, now: str) -> None:
        self.now = at(now)

    def __call__(self) -> datetime:
        return self.now


def make_cronjob(store: Store, **spec: object) -> Obj:
    store.create(NAMESPACES, "", {"metadata": {"name": "demo"}})
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": "nightly-report",
            "namespace": "demo",
            "creationTimestamp": "2026-12-05T01:00:00Z",
        },
        "spec": {
            "schedule": "0 2 * * *",
            "jobTemplate": {
                "metadata": {"labels": {"app": "nightly-report"}},
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "report", "image": "busybox"}],
                        }
                    }
                },
            },
            **spec,
        },
    }
    defaults.cron_job(cronjob)
    return store.create(CRONJOBS, "demo", cronjob)


def finish(store: Store, name: str, kind: str, stamp: str) -> None:
    def done(job: Obj) -> None:
        job["status"] = {
            "startTime": stamp,
            "completionTime": stamp,
            "conditions": [{"type": kind, "status": "True"}],
        }

    store.mutate(JOBS, "demo", name, done)


def messages(store: Store) -> list[tuple[str, str]]:
    return [(e["reason"], e["message"]) for e in store.list(EVENTS, "demo")[0]]


def test_a_job_per_scheduled_time_owned_by_the_cronjob() -> None:
    store = Store()
    clock = Clock("2026-12-05 01:59")
    controller = CronJobController(store, EventRecorder(store), clock)
    cronjob = make_cronjob(store)
    controller.sync()
    assert store.list(JOBS)[0] == []

    clock.now = at("2026-12-05 02:00")
    controller.sync()
    controller.sync()  # the same minute does not run twice
    jobs = store.list(JOBS)[0]
    name = f"nightly-report-{int(at('2026-12-05 02:00').timestamp()) // 60}"
    assert [j["metadata"]["name"] for j in jobs] == [name]
    made = jobs[0]
    owner = made["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["uid"], owner["controller"]) == (
        "CronJob",
        cronjob["metadata"]["uid"],
        True,
    )
    assert made["metadata"]["labels"] == {"app": "nightly-report"}
    assert (
        made["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
        == "2026-12-05T02:00:00Z"
    )
    assert made["spec"]["selector"]["matchLabels"] == {
        "batch.kubernetes.io/controller-uid": made["metadata"]["uid"]
    }
    status = store.get(CRONJOBS, "demo", "nightly-report")["status"]
    assert status["lastScheduleTime"] == "2026-12-05T02:00:00Z"
    assert [ref["name"] for ref in status["active"]] == [name]
    assert ("SuccessfulCreate", f"Created job {name}") in messages(store)

    finish(store, name, "Complete", "2026-12-05T02:01:00Z")
    controller.sync()
    status = store.get(CRONJOBS, "demo", "nightly-report")["status"]
    assert "active" not in status
    assert status["lastSuccessfulTime"] == "2026-12-05T02:01:00Z"
    assert ("SawCompletedJob", f"Saw completed job: {name}, condition: Complete") in messages(store)


def test_history_limits_delete_the_oldest_finished_jobs() -> None:
    store = Store()
    clock = Clock("2026-12-05 01:00")
    controller = CronJobController(store, EventRecorder(store), clock)
    make_cronjob(store, successfulJobsHistoryLimit=1, failedJobsHistoryLimit=1)
    names = []
    for day, outcome in ((5, "Complete"), (6, "Complete"), (7, "Failed"), (8, "Failed")):
        clock.now = at(f"2026-12-0{day} 02:00")
        controller.sync()
        name = f"nightly-report-{int(clock.now.timestamp()) // 60}"
        names.append(name)
        finish(store, name, outcome, f"2026-12-0{day}T02:05:00Z")
    controller.sync()
    kept = sorted(j["metadata"]["name"] for j in store.list(JOBS)[0])
    assert kept == sorted([names[1], names[3]])
    assert ("SuccessfulDelete", f"Deleted job {names[0]}") in messages(store)
    assert ("SuccessfulDelete", f"Deleted job {names[2]}") in messages(store)


def test_forbid_skips_a_run_while_one_is_active() -> None:
    store = Store()
    clock = Clock("2026-12-05 02:00")
    controller = CronJobController(store, EventRecorder(store), clock)
    make_cronjob(store, concurrencyPolicy="Forbid")
    controller.sync()
    clock.now = at("2026-12-06 02:00")
    controller.sync()
    assert len(store.list(JOBS)[0]) == 1
    assert (
        "JobAlreadyActive",
        "Not starting job because prior execution is running and concurrency policy is Forbid",
    ) in messages(store)


def test_missed_runs_start_only_the_most_recent() -> None:
    store = Store()
    clock = Clock("2026-12-09 03:00")  # four scheduled times passed since creation
    controller = CronJobController(store, EventRecorder(store), clock)
    make_cronjob(store)
    controller.sync()
    jobs = store.list(JOBS)[0]
    assert len(jobs) == 1
    stamp = jobs[0]["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    assert stamp == "2026-12-09T02:00:00Z"
