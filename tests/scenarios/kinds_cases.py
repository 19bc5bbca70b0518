# ruff: noqa: E501  (verbatim log lines and controller messages are data)
"""Scenarios of bare Pods, CronJobs and Jobs, StatefulSets and DaemonSets (kinds_kit.py)."""

from __future__ import annotations

from kinds_kit import KindScenario
from kit import (
    DAY,
    NODES,
    REG,
    Obj,
    Revision,
    back_off,
    c_running,
    c_waiting,
    container,
    healthy_pods,
    probe,
    terminated,
    ts,
)

BACKOFF_MESSAGE = "Job has reached the specified backoff limit"
DEADLINE_MESSAGE = "Job was active longer than specified deadline"


def job_failed_status(reason: str, message: str, started: float, failed: int, ended: float) -> Obj:
    """A Job's status once the job controller gave up (FailureTarget, then Failed) `ended`
    minutes ago."""
    condition = {
        "lastProbeTime": ts(ended),
        "lastTransitionTime": ts(ended),
        "message": message,
        "reason": reason,
        "status": "True",
    }
    return {
        "conditions": [{**condition, "type": "FailureTarget"}, {**condition, "type": "Failed"}],
        "failed": failed,
        "ready": 0,
        "startTime": ts(started),
        "terminating": 0,
        "uncountedTerminatedPods": {},
    }


def failed_job_pod(
    s: KindScenario, rev: Revision, index: int, code: int, reason: str, started: float
) -> str:
    """A pod of a Job (restartPolicy Never) whose one container ended; phase Failed."""
    c = rev.containers[0]
    state = terminated(code, reason, started, started - 1)
    status = {
        **c_running(c, started, ready=False),
        "started": False,
        "state": {"terminated": state},
    }
    return s.pod(rev, index, [status], phase="Failed", started_minutes_ago=started)


POD_STARTS = (60, 58, 55)
"""When a failing Job's three pods started (minutes ago): the controller's back-off between
retries (10 s, 20 s, 40 s...) plus each pod's run."""
JOB_GAVE_UP = 53


def job_events(
    s: KindScenario, job: str, reason: str, message: str, minutes_ago: float, pods: list[str]
) -> None:
    for pod, started in zip(pods, POD_STARTS, strict=True):
        s.event(
            "Job",
            job,
            "SuccessfulCreate",
            f"Created pod: {pod}",
            started,
            type_="Normal",
            component="job-controller",
        )
    s.event("Job", job, reason, message, minutes_ago, component="job-controller")


# --- bare Pods ---------------------------------------------------------------------------------


def pod_bare_oom() -> KindScenario:
    s = KindScenario(
        "oom_killed",
        "pod_bare_oom",
        "none",
        "debug-shell",
        kind="Pod",
        replicas=1,
        containers=["toolbox"],
        description="A bare Pod (no controller) OOMKilled in CrashLoopBackOff: no fix, its manifest must change.",
    )
    app = container("toolbox", f"{REG}/toolbox:2.3.0", memory="256Mi", cpu="250m", port=None)
    rev = Revision(1, [app], 3 * DAY)
    s.revisions = [rev]
    last = terminated(137, "OOMKilled", 6, 4)
    s.pod(
        rev,
        0,
        [c_waiting(app, "CrashLoopBackOff", back_off(app, s.name), 12, last)],
        started_minutes_ago=3 * DAY,
    )
    s.event(
        "Pod",
        s.name,
        "BackOff",
        f"Back-off restarting failed container toolbox in pod {s.name}_shop",
        1,
        count=40,
        first_minutes_ago=60,
        container="toolbox",
    )
    s.previous_logs[f"{s.name}/toolbox"] = (
        "loading dump 3.1 GiB into memory\nparsed 1200000 records\n"
    )
    return s


def pod_bare_image_pull() -> KindScenario:
    s = KindScenario(
        "image_pull",
        "pod_bare_image_pull",
        "none",
        "migrate-once",
        kind="Pod",
        replicas=1,
        containers=["migrate"],
        description="A bare Pod whose image tag does not exist: no controller to roll back, no fix.",
    )
    image = f"{REG}/migrate:7.0.0-rc1"
    app = container("migrate", image, port=None)
    rev = Revision(1, [app], 25)
    s.revisions = [rev]
    s.pod(
        rev,
        0,
        [c_waiting(app, "ImagePullBackOff", f'Back-off pulling image "{image}"', image_id=False)],
        phase="Pending",
        started_minutes_ago=25,
    )
    error = f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": failed to resolve reference "{image}": {image}: not found'
    s.event(
        "Pod",
        s.name,
        "Pulling",
        f'Pulling image "{image}"',
        2,
        count=7,
        first_minutes_ago=25,
        type_="Normal",
        container="migrate",
    )
    s.event(
        "Pod",
        s.name,
        "Failed",
        f'Failed to pull image "{image}": {error}',
        2,
        count=7,
        first_minutes_ago=25,
        container="migrate",
    )
    s.event(
        "Pod",
        s.name,
        "Failed",
        "Error: ErrImagePull",
        2,
        count=7,
        first_minutes_ago=25,
        container="migrate",
    )
    s.event(
        "Pod",
        s.name,
        "BackOff",
        f'Back-off pulling image "{image}"',
        1,
        count=90,
        first_minutes_ago=24,
        type_="Normal",
        container="migrate",
    )
    s.event(
        "Pod",
        s.name,
        "Failed",
        "Error: ImagePullBackOff",
        1,
        count=90,
        first_minutes_ago=24,
        container="migrate",
    )
    return s


def pod_bare_crash_loop() -> KindScenario:
    s = KindScenario(
        "crash_loop",
        "pod_bare_crash_loop",
        "none",
        "cache-warmer",
        kind="Pod",
        replicas=1,
        containers=["warmer"],
        description="A bare Pod exiting 1 in CrashLoopBackOff: diagnosed, no fix proposed.",
    )
    app = container("warmer", f"{REG}/cache-warmer:1.4.2", port=None)
    rev = Revision(1, [app], 2 * DAY)
    s.revisions = [rev]
    s.pod(
        rev,
        0,
        [
            c_waiting(
                app, "CrashLoopBackOff", back_off(app, s.name), 27, terminated(1, "Error", 5, 5)
            )
        ],
        started_minutes_ago=2 * DAY,
    )
    s.event(
        "Pod",
        s.name,
        "BackOff",
        f"Back-off restarting failed container warmer in pod {s.name}_shop",
        1,
        count=120,
        first_minutes_ago=130,
        container="warmer",
    )
    s.previous_logs[f"{s.name}/warmer"] = (
        "2025-06-03T14:25:00Z INFO  warming 14 keyspaces\n"
        "Traceback (most recent call last):\n"
        '  File "/app/warm.py", line 41, in <module>\n'
        "    keyspaces = json.loads(open('/config/keyspaces.json').read())\n"
        "json.decoder.JSONDecodeError: Expecting ',' delimiter: line 12 column 5 (char 311)\n"
    )
    return s


# --- CronJobs and Jobs ------------------------------------------------------------------------


def _cronjob(
    case: str, category: str, fix: str, description: str, app: Obj, **extra: object
) -> tuple[KindScenario, Revision, Revision]:
    s = KindScenario(
        category,
        case,
        fix,
        "nightly-report",
        kind="CronJob",
        replicas=1,
        containers=[app["name"]],
        description=description,
        **extra,
    )  # type: ignore[arg-type]
    done = Revision(1, [app], 120)
    failing = Revision(2, [app], 60)
    s.revisions = [done, failing]
    healthy = c_running(app, 120, ready=False)
    healthy["state"] = {"terminated": {**terminated(0, "Completed", 120, 117)}}
    healthy["started"] = False
    s.pod(done, 0, [healthy], phase="Succeeded", started_minutes_ago=120)
    return s, done, failing


def cronjob_backoff_limit() -> KindScenario:
    app = container("report", f"{REG}/report:5.2.0", memory="1Gi", cpu="1", port=None)
    s, _, failing = _cronjob(
        "cronjob_backoff_limit",
        "job_failed",
        "none",
        "The CronJob's newest Job reached its backoff limit: every pod exits 3 on a bad input row.",
        app,
        job_spec={"backoffLimit": 2},
    )
    job = s.revision_name(failing)
    s.job_status[failing.number] = job_failed_status(
        "BackoffLimitExceeded", BACKOFF_MESSAGE, 60, 3, JOB_GAVE_UP
    )
    pods = [failed_job_pod(s, failing, i, 3, "Error", POD_STARTS[i]) for i in range(3)]
    for pod, started in zip(pods, POD_STARTS, strict=True):
        at = ts(started)
        s.logs[f"{pod}/report"] = (
            f"{at} INFO  report 5.2.0: building the daily sales report\n"
            f"{at} ERROR row 48121: invalid currency code 'XXX' in order 99812\n"
            f"{at} FATAL aborting: 1 invalid row(s)\n"
        )
    job_events(s, job, "BackoffLimitExceeded", BACKOFF_MESSAGE, JOB_GAVE_UP, pods)
    s.event(
        "CronJob",
        s.name,
        "SawCompletedJob",
        f"Saw completed job: {job}, condition: Failed",
        JOB_GAVE_UP,
        type_="Normal",
        component="cronjob-controller",
    )
    return s


def cronjob_oom() -> KindScenario:
    app = container("report", f"{REG}/report:5.2.0", memory="512Mi", cpu="1", port=None)
    s, _, failing = _cronjob(
        "cronjob_oom",
        "oom_killed",
        "increase_memory",
        "The CronJob's newest Job failed its backoff limit because every pod was OOMKilled: raise the jobTemplate's limit.",
        app,
        job_spec={"backoffLimit": 2},
    )
    job = s.revision_name(failing)
    s.job_status[failing.number] = job_failed_status(
        "BackoffLimitExceeded", BACKOFF_MESSAGE, 60, 3, JOB_GAVE_UP
    )
    pods = [failed_job_pod(s, failing, i, 137, "OOMKilled", POD_STARTS[i]) for i in range(3)]
    for pod, started in zip(pods, POD_STARTS, strict=True):
        at = ts(started)
        s.logs[f"{pod}/report"] = f"{at} INFO  report 5.2.0: loading 14.2M order lines\n"
    job_events(s, job, "BackoffLimitExceeded", BACKOFF_MESSAGE, JOB_GAVE_UP, pods)
    return s


def cronjob_dependency_down() -> KindScenario:
    app = container("report", f"{REG}/report:5.2.0", memory="1Gi", cpu="1", port=None)
    s, _, failing = _cronjob(
        "cronjob_dependency_down",
        "dependency_failure",
        "none",
        "The CronJob's newest Job failed its backoff limit: every pod's last words are a refused database connection.",
        app,
        job_spec={"backoffLimit": 2},
    )
    job = s.revision_name(failing)
    s.job_status[failing.number] = job_failed_status(
        "BackoffLimitExceeded", BACKOFF_MESSAGE, 60, 3, JOB_GAVE_UP
    )
    pods = [failed_job_pod(s, failing, i, 1, "Error", POD_STARTS[i]) for i in range(3)]
    for pod, started in zip(pods, POD_STARTS, strict=True):
        at = ts(started)
        s.logs[f"{pod}/report"] = (
            f"{at} INFO  report 5.2.0: building the daily sales report\n"
            f'{at} ERROR could not connect to server: Connection refused. Is the server running on host "orders-db.shop.svc" (10.96.14.2) and accepting TCP/IP connections on port 5432?\n'
            f"{at} FATAL database unavailable after 30s, exiting\n"
        )
    job_events(s, job, "BackoffLimitExceeded", BACKOFF_MESSAGE, JOB_GAVE_UP, pods)
    return s


def cronjob_deadline_exceeded() -> KindScenario:
    app = container("report", f"{REG}/report:5.2.0", memory="1Gi", cpu="1", port=None)
    s, _, failing = _cronjob(
        "cronjob_deadline_exceeded",
        "job_failed",
        "none",
        "The CronJob's newest Job ran past activeDeadlineSeconds; its running pod was deleted.",
        app,
        job_spec={"activeDeadlineSeconds": 1800, "backoffLimit": 2},
    )
    job = s.revision_name(failing)
    s.job_status[failing.number] = job_failed_status(
        "DeadlineExceeded", DEADLINE_MESSAGE, 60, 1, 30
    )
    s.event(
        "Job",
        job,
        "SuccessfulCreate",
        f"Created pod: {job}-x7k2p",
        60,
        type_="Normal",
        component="job-controller",
    )
    s.event(
        "Job",
        job,
        "SuccessfulDelete",
        f"Deleted pod: {job}-x7k2p",
        30,
        type_="Normal",
        component="job-controller",
    )
    s.event("Job", job, "DeadlineExceeded", DEADLINE_MESSAGE, 30, component="job-controller")
    return s


def job_deadline_exceeded() -> KindScenario:
    s = KindScenario(
        "job_failed",
        "job_deadline_exceeded",
        "none",
        "reindex-catalog",
        kind="Job",
        replicas=1,
        containers=["reindex"],
        description="A Job ran past its deadline; a Job's pods are not changed after the fact, so no fix.",
        job_spec={"activeDeadlineSeconds": 3600, "backoffLimit": 4},
    )
    app = container("reindex", f"{REG}/reindex:1.9.0", memory="2Gi", cpu="2", port=None)
    rev = Revision(1, [app], 70)
    s.revisions = [rev]
    s.job_status[1] = job_failed_status("DeadlineExceeded", DEADLINE_MESSAGE, 70, 1, 10)
    s.event(
        "Job",
        s.name,
        "SuccessfulCreate",
        f"Created pod: {s.name}-q9vdm",
        70,
        type_="Normal",
        component="job-controller",
    )
    s.event(
        "Job",
        s.name,
        "SuccessfulDelete",
        f"Deleted pod: {s.name}-q9vdm",
        10,
        type_="Normal",
        component="job-controller",
    )
    s.event("Job", s.name, "DeadlineExceeded", DEADLINE_MESSAGE, 10, component="job-controller")
    return s


# --- StatefulSets --------------------------------------------------------------------------


def _statefulset(
    case: str, category: str, fix: str, description: str, **extra: object
) -> KindScenario:
    return KindScenario(
        category,
        case,
        fix,
        "ledger-db",
        kind="StatefulSet",
        replicas=3,
        description=description,
        **extra,
    )  # type: ignore[arg-type]


def statefulset_oom() -> KindScenario:
    s = _statefulset(
        "statefulset_oom",
        "oom_killed",
        "increase_memory",
        "StatefulSet pods OOMKilled behind CrashLoopBackOff: raise spec.template's limit.",
        containers=["ledger-db"],
    )
    app = container("ledger-db", f"{REG}/ledger-db:16.3", memory="1Gi", cpu="1", port=5432)
    rev = Revision(4, [app], 30 * DAY, replicas=3)
    s.revisions = [rev]
    for i in range(3):
        name = s.pod_name(rev, i)
        s.pod(
            rev,
            i,
            [
                c_waiting(
                    app,
                    "CrashLoopBackOff",
                    back_off(app, name),
                    9 + i,
                    terminated(137, "OOMKilled", 8, 6),
                )
            ],
            started_minutes_ago=2 * DAY,
        )
        s.event(
            "Pod",
            name,
            "BackOff",
            f"Back-off restarting failed container ledger-db in pod {name}_shop",
            2,
            count=30,
            first_minutes_ago=50,
            container="ledger-db",
        )
        s.previous_logs[f"{name}/ledger-db"] = (
            "2025-06-03 14:22:01 UTC LOG:  database system is ready to accept connections\n2025-06-03 14:24:10 UTC LOG:  checkpoint starting: wal\n"
        )
    return s


def statefulset_image_pull() -> KindScenario:
    s = _statefulset(
        "statefulset_image_pull",
        "image_pull",
        "rollback_image",
        "A new StatefulSet revision names a missing tag; ledger-db-2 cannot pull it while 0 and 1 run the old one.",
        containers=["ledger-db"],
    )
    old_app = container("ledger-db", f"{REG}/ledger-db:16.3", memory="1Gi", cpu="1", port=5432)
    image = f"{REG}/ledger-db:16.4-bookworm"
    new_app = container("ledger-db", image, memory="1Gi", cpu="1", port=5432)
    old = Revision(4, [old_app], 30 * DAY, replicas=2, ready=2)
    new = Revision(5, [new_app], 20, replicas=1)
    s.revisions = [old, new]
    s.pod(old, 0, [c_running(old_app, 30 * DAY)], started_minutes_ago=30 * DAY)
    s.pod(old, 1, [c_running(old_app, 30 * DAY)], started_minutes_ago=30 * DAY)
    name = s.pod_name(new, 2)
    s.pod(
        new,
        2,
        [
            c_waiting(
                new_app, "ImagePullBackOff", f'Back-off pulling image "{image}"', image_id=False
            )
        ],
        phase="Pending",
        started_minutes_ago=20,
    )
    error = f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": failed to resolve reference "{image}": {image}: not found'
    s.event(
        "Pod",
        name,
        "Failed",
        f'Failed to pull image "{image}": {error}',
        2,
        count=6,
        first_minutes_ago=20,
        container="ledger-db",
    )
    s.event(
        "Pod",
        name,
        "Failed",
        "Error: ErrImagePull",
        2,
        count=6,
        first_minutes_ago=20,
        container="ledger-db",
    )
    s.event(
        "Pod",
        name,
        "BackOff",
        f'Back-off pulling image "{image}"',
        1,
        count=80,
        first_minutes_ago=19,
        type_="Normal",
        container="ledger-db",
    )
    s.event(
        "Pod",
        name,
        "Failed",
        "Error: ImagePullBackOff",
        1,
        count=80,
        first_minutes_ago=19,
        container="ledger-db",
    )
    s.event(
        "StatefulSet",
        s.name,
        "SuccessfulDelete",
        f"delete Pod {name} in StatefulSet {s.name} successful",
        20,
        type_="Normal",
        component="statefulset-controller",
    )
    s.event(
        "StatefulSet",
        s.name,
        "SuccessfulCreate",
        f"create Pod {name} in StatefulSet {s.name} successful",
        20,
        type_="Normal",
        component="statefulset-controller",
    )
    return s


def statefulset_missing_storage_class() -> KindScenario:
    s = _statefulset(
        "statefulset_missing_storage_class",
        "storage",
        "none",
        "A StatefulSet's claim from volumeClaimTemplates stays Pending: its StorageClass fast-ssd does not exist.",
        containers=["ledger-db"],
        claim_templates=[
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"creationTimestamp": None, "name": "data"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "20Gi"}},
                    "storageClassName": "fast-ssd",
                    "volumeMode": "Filesystem",
                },
                "status": {"phase": "Pending"},
            }
        ],
    )
    app = container(
        "ledger-db",
        f"{REG}/ledger-db:16.3",
        memory="1Gi",
        cpu="1",
        port=5432,
        volumeMounts=[{"mountPath": "/var/lib/postgresql/data", "name": "data"}],
    )
    rev = Revision(
        1,
        [app],
        15,
        replicas=1,
        pod_extra={
            "volumes": [
                {"name": "data", "persistentVolumeClaim": {"claimName": "data-ledger-db-0"}}
            ]
        },
    )
    s.revisions = [rev]
    s.replicas = 3
    name = s.pod_name(rev, 0)
    message = "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    s.pod(
        rev,
        0,
        [],
        phase="Pending",
        started_minutes_ago=15,
        scheduled=False,
        conditions=[
            {
                "lastProbeTime": None,
                "lastTransitionTime": ts(15),
                "message": message,
                "reason": "Unschedulable",
                "status": "False",
                "type": "PodScheduled",
            }
        ],
    )
    s.event(
        "Pod",
        name,
        "FailedScheduling",
        message,
        1,
        count=4,
        first_minutes_ago=15,
        component="default-scheduler",
    )
    claim = "data-ledger-db-0"
    s.objects.append(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {
                "creationTimestamp": ts(15),
                "finalizers": ["kubernetes.io/pvc-protection"],
                "labels": {"app.kubernetes.io/name": s.name},
                "name": claim,
                "namespace": s.namespace,
                "resourceVersion": "88213",
                "uid": "0f3c1c9e-5b1d-4b0e-9a51-3c8e7f0d2a11",
            },
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "20Gi"}},
                "storageClassName": "fast-ssd",
                "volumeMode": "Filesystem",
            },
            "status": {"phase": "Pending"},
        }
    )
    s.event(
        "PersistentVolumeClaim",
        claim,
        "ProvisioningFailed",
        'storageclass.storage.k8s.io "fast-ssd" not found',
        1,
        count=62,
        first_minutes_ago=15,
        component="persistentvolume-controller",
    )
    s.event(
        "StatefulSet",
        s.name,
        "SuccessfulCreate",
        f"create Claim {claim} Pod {name} in StatefulSet {s.name} success",
        15,
        type_="Normal",
        component="statefulset-controller",
    )
    s.event(
        "StatefulSet",
        s.name,
        "SuccessfulCreate",
        f"create Pod {name} in StatefulSet {s.name} successful",
        15,
        type_="Normal",
        component="statefulset-controller",
    )
    return s


# --- DaemonSets ------------------------------------------------------------------------------


def _daemonset(
    case: str, category: str, fix: str, description: str, **extra: object
) -> KindScenario:
    return KindScenario(
        category,
        case,
        fix,
        "log-agent",
        kind="DaemonSet",
        replicas=3,
        description=description,
        **extra,
    )  # type: ignore[arg-type]


def daemonset_bad_image() -> KindScenario:
    s = _daemonset(
        "daemonset_bad_image",
        "image_pull",
        "rollback_image",
        "A DaemonSet's new revision names a tag the registry lacks; the updated node's pod cannot pull it.",
        containers=["agent"],
    )
    old_app = container("agent", f"{REG}/log-agent:3.1.0", memory="200Mi", cpu="100m", port=None)
    image = f"{REG}/log-agent:3.2.0"
    new_app = container("agent", image, memory="200Mi", cpu="100m", port=None)
    old = Revision(6, [old_app], 40 * DAY, replicas=2, ready=2)
    new = Revision(7, [new_app], 15, replicas=1)
    s.revisions = [old, new]
    s.pod(old, 1, [c_running(old_app, 40 * DAY)], started_minutes_ago=40 * DAY)
    s.pod(old, 2, [c_running(old_app, 40 * DAY)], started_minutes_ago=40 * DAY)
    name = s.pod_name(new, 0)
    s.pod(
        new,
        0,
        [
            c_waiting(
                new_app, "ImagePullBackOff", f'Back-off pulling image "{image}"', image_id=False
            )
        ],
        phase="Pending",
        started_minutes_ago=15,
    )
    error = f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": failed to resolve reference "{image}": {image}: not found'
    s.event(
        "Pod",
        name,
        "Failed",
        f'Failed to pull image "{image}": {error}',
        2,
        count=5,
        first_minutes_ago=15,
        container="agent",
        host=NODES[0],
    )
    s.event(
        "Pod",
        name,
        "BackOff",
        f'Back-off pulling image "{image}"',
        1,
        count=60,
        first_minutes_ago=14,
        type_="Normal",
        container="agent",
        host=NODES[0],
    )
    s.event(
        "Pod",
        name,
        "Failed",
        "Error: ImagePullBackOff",
        1,
        count=60,
        first_minutes_ago=14,
        container="agent",
        host=NODES[0],
    )
    s.event(
        "DaemonSet",
        s.name,
        "SuccessfulCreate",
        f"Created pod: {name}",
        15,
        type_="Normal",
        component="daemonset-controller",
    )
    return s


def daemonset_crash_loop() -> KindScenario:
    s = _daemonset(
        "daemonset_crash_loop",
        "crash_loop",
        "rollback_image",
        "A DaemonSet's new image exits 1 on start (bad flag); the pods of the old revision run.",
        containers=["agent"],
    )
    old_app = container("agent", f"{REG}/log-agent:3.1.0", memory="200Mi", cpu="100m", port=None)
    new_app = container("agent", f"{REG}/log-agent:3.1.1", memory="200Mi", cpu="100m", port=None)
    old = Revision(6, [old_app], 40 * DAY, replicas=2, ready=2)
    new = Revision(7, [new_app], 25, replicas=1)
    s.revisions = [old, new]
    s.pod(old, 1, [c_running(old_app, 40 * DAY)], started_minutes_ago=40 * DAY)
    s.pod(old, 2, [c_running(old_app, 40 * DAY)], started_minutes_ago=40 * DAY)
    name = s.pod_name(new, 0)
    s.pod(
        new,
        0,
        [
            c_waiting(
                new_app,
                "CrashLoopBackOff",
                back_off(new_app, name),
                9,
                terminated(1, "Error", 3, 3),
            )
        ],
        started_minutes_ago=25,
    )
    s.event(
        "Pod",
        name,
        "BackOff",
        f"Back-off restarting failed container agent in pod {name}_shop",
        1,
        count=40,
        first_minutes_ago=24,
        container="agent",
    )
    s.previous_logs[f"{name}/agent"] = (
        "log-agent 3.1.1\n"
        'error: unknown flag "--buffer.max-chunks" (did you mean "--buffer.max-chunk-size"?)\n'
    )
    return s


def daemonset_probe() -> KindScenario:
    s = _daemonset(
        "daemonset_probe",
        "probe_failure",
        "relax_probe",
        "A DaemonSet's new revision moved the liveness path to one the agent does not serve: HTTP 404, restarts.",
        containers=["agent"],
    )
    old_app = container(
        "agent",
        f"{REG}/log-agent:3.1.0",
        memory="200Mi",
        cpu="100m",
        port=2020,
        livenessProbe=probe("/api/v1/health", port=2020, delay=10),
    )
    new_app = container(
        "agent",
        f"{REG}/log-agent:3.1.0",
        memory="200Mi",
        cpu="100m",
        port=2020,
        livenessProbe=probe("/healthz", port=2020, delay=10),
    )
    old = Revision(6, [old_app], 40 * DAY, replicas=2, ready=2)
    new = Revision(7, [new_app], 20, replicas=1)
    s.revisions = [old, new]
    healthy_pods(s, old, 2, 40 * DAY, offset=1)
    name = s.pod_name(new, 0)
    s.pod(
        new,
        0,
        [c_running(new_app, 1, ready=True, restarts=5, last=terminated(137, "Error", 3, 1))],
        started_minutes_ago=20,
    )
    s.event(
        "Pod",
        name,
        "Unhealthy",
        "Liveness probe failed: HTTP probe failed with statuscode: 404",
        1,
        count=16,
        first_minutes_ago=19,
        container="agent",
    )
    s.event(
        "Pod",
        name,
        "Killing",
        "Container agent failed liveness probe, will be restarted",
        1,
        count=5,
        first_minutes_ago=19,
        type_="Normal",
        container="agent",
    )
    s.logs[f"{name}/agent"] = (
        "[2025/06/03 14:29:41] [ info] [http_server] GET /healthz 404\n"
        "[2025/06/03 14:29:44] [ info] [http_server] GET /api/v1/health 200\n"
    )
    return s


CASES = [
    pod_bare_oom,
    pod_bare_image_pull,
    pod_bare_crash_loop,
    cronjob_backoff_limit,
    cronjob_oom,
    cronjob_dependency_down,
    cronjob_deadline_exceeded,
    job_deadline_exceeded,
    statefulset_oom,
    statefulset_image_pull,
    statefulset_missing_storage_class,
    daemonset_bad_image,
    daemonset_crash_loop,
    daemonset_probe,
]
