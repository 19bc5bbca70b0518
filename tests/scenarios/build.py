# ruff: noqa: E501  (verbatim log lines and registry messages are data)
"""Writes the diagnosis scenario snapshots: `python tests/scenarios/build.py`.

Each scenario is one failure as a cluster shows it: objects shaped exactly as the API server
returns them (server-side defaults included) and written as `kubectl get -o yaml` prints a
List, container logs, an optional alert, and `expected.yaml` (category, fix kind). The
snapshots are checked in; this script documents how they were made and regenerates them.
The kit (kit.py) shapes the objects; the cases of the failure classes that live around the
workload rather than in its containers are in cluster_cases.py and dependency_cases.py.
"""

from __future__ import annotations

import cluster_cases
import dependency_cases
import kinds_cases
import metrics_cases
from kit import (
    DAY,
    REG,
    ROOT,
    Obj,
    Revision,
    Scenario,
    back_off,
    c_running,
    c_waiting,
    container,
    healthy_pods,
    normal_events,
    probe,
    rv,
    terminated,
    ts,
    uid,
    web,
)

# --- oom_killed ------------------------------------------------------------------------------


def oom_hidden_behind_crashloop() -> Scenario:
    s = Scenario(
        "oom_killed",
        "hidden_behind_crashloop",
        "increase_memory",
        "checkout",
        containers=["checkout"],
        description="Pods show only CrashLoopBackOff; lastState says OOMKilled exit 137.",
    )
    old = Revision(6, [web(f"{REG}/checkout:1.14.1")], 20 * DAY)
    rev = Revision(7, [web(f"{REG}/checkout:1.14.2")], 6 * DAY, replicas=3)
    s.revisions = [old, rev]
    app = rev.containers[0]
    for i in range(3):
        name = s.pod_name(rev, i)
        last = terminated(137, "OOMKilled", 9 + i, 4 + i)
        s.pod(
            rev,
            i,
            [c_waiting(app, "CrashLoopBackOff", back_off(app, name), 14 + i, last)],
            started_minutes_ago=2 * DAY,
        )
        s.event(
            "Pod",
            name,
            "BackOff",
            f"Back-off restarting failed container checkout in pod {name}_shop({uid(name)})",
            1,
            count=61 + i,
            first_minutes_ago=300,
            container="checkout",
        )
        s.event(
            "Pod",
            name,
            "Pulled",
            f'Container image "{app["image"]}" already present on machine',
            9 + i,
            count=15,
            first_minutes_ago=2 * DAY,
            type_="Normal",
            container="checkout",
        )
        s.previous_logs[f"{name}/checkout"] = """
2025-06-03T14:17:02.114Z INFO  checkout starting version=1.14.2
2025-06-03T14:17:04.870Z INFO  connected to postgres host=orders-db
2025-06-03T14:19:31.002Z INFO  cart-cache warmup 61% entries=1840221
2025-06-03T14:20:55.431Z INFO  cart-cache warmup 87% entries=2610040
"""
    return s


def oom_running_again() -> Scenario:
    s = Scenario(
        "oom_killed",
        "running_after_oom",
        "increase_memory",
        "search",
        containers=["search"],
        description="Container is running again, but was OOMKilled minutes ago.",
    )
    rev = Revision(3, [web(f"{REG}/search:3.2.0", memory="1Gi")], 30 * DAY, replicas=2, ready=1)
    s.revisions = [rev]
    app = rev.containers[0]
    s.replicas = 2
    s.pod(rev, 0, [c_running(app, 3 * DAY)], started_minutes_ago=3 * DAY)
    name = s.pod_name(rev, 1)
    s.pod(
        rev,
        1,
        [c_running(app, 2, ready=False, restarts=3, last=terminated(137, "OOMKilled", 48, 2))],
        started_minutes_ago=3 * DAY,
    )
    s.event(
        "Pod",
        name,
        "Unhealthy",
        'Readiness probe failed: Get "http://10.244.2.31:8080/ready": '
        "dial tcp 10.244.2.31:8080: connect: connection refused",
        1,
        count=4,
        container="search",
    )
    s.logs[f"{name}/search"] = "2025-06-03T14:28:11Z INFO search starting index=products shards=4\n"
    s.previous_logs[f"{name}/search"] = (
        "2025-06-03T13:42:00Z INFO search starting index=products shards=4\n"
        "2025-06-03T14:27:40Z INFO reindex started: 4200000 documents\n"
    )
    return s


def oom_sidecar_only() -> Scenario:
    s = Scenario(
        "oom_killed",
        "sidecar_only",
        "increase_memory",
        "catalog",
        containers=["log-shipper"],
        description="Two containers; only the log-shipper sidecar is OOMKilled.",
    )
    app = web(f"{REG}/catalog:5.0.3", memory="1Gi")
    sidecar = container(
        "log-shipper", "fluent/fluent-bit:3.0.7", memory="64Mi", cpu="100m", port=None
    )
    rev = Revision(11, [app, sidecar], 10 * DAY, replicas=3)
    s.revisions = [rev]
    for i in range(3):
        name = s.pod_name(rev, i)
        last = terminated(137, "OOMKilled", 7, 5)
        s.pod(
            rev,
            i,
            [
                c_running(app, 2 * DAY),
                c_waiting(sidecar, "CrashLoopBackOff", back_off(sidecar, name), 22, last),
            ],
            started_minutes_ago=2 * DAY,
        )
        s.event(
            "Pod",
            name,
            "BackOff",
            f"Back-off restarting failed container log-shipper in pod {name}_shop({uid(name)})",
            2,
            count=90,
            first_minutes_ago=600,
            container="log-shipper",
        )
        s.logs[f"{name}/catalog"] = "2025-06-03T14:29:58Z INFO GET /api/products 200 12ms\n"
        s.previous_logs[f"{name}/log-shipper"] = (
            "[2025/06/03 14:23:02] [ info] [input:tail:tail.0] inotify_fs_add(): inode=1042 "
            "name=/var/log/app/catalog.log\n"
            "[2025/06/03 14:24:40] [ warn] [output:es:es.0] retrying chunk 1-1717425880.3 "
            "(buffer 58.1M)\n"
        )
    return s


def oom_at_memory_cap() -> Scenario:
    s = Scenario(
        "oom_killed",
        "at_memory_cap",
        "none",
        "reports",
        containers=["reports"],
        description="OOMKilled at a 4Gi limit: already at the cap, a person must act.",
    )
    rev = Revision(2, [web(f"{REG}/reports:2.1.0", memory="4Gi")], 40 * DAY, replicas=1)
    s.revisions = [rev]
    s.replicas = 1
    app = rev.containers[0]
    name = s.pod_name(rev, 0)
    s.pod(
        rev,
        0,
        [
            c_waiting(
                app, "CrashLoopBackOff", back_off(app, name), 6, terminated(137, "OOMKilled", 20, 8)
            )
        ],
        started_minutes_ago=DAY,
    )
    s.event(
        "Pod",
        name,
        "BackOff",
        f"Back-off restarting failed container reports in pod {name}_shop({uid(name)})",
        3,
        count=20,
        first_minutes_ago=80,
        container="reports",
    )
    s.previous_logs[f"{name}/reports"] = (
        "2025-06-03T14:15:00Z INFO building monthly report rows=91000000\n"
    )
    return s


# --- crash_loop -------------------------------------------------------------------------------


def crash_new_rollout() -> Scenario:
    s = Scenario(
        "crash_loop",
        "new_rollout",
        "rollback_image",
        "payments",
        containers=["payments"],
        description="Revision 5 (new image) crashes with exit 1; revision 4 still serves.",
    )
    old = Revision(4, [web(f"{REG}/payments:2.3.1")], 12 * DAY, replicas=2, ready=2)
    new = Revision(5, [web(f"{REG}/payments:2.4.0")], 14, replicas=2)
    s.revisions = [old, new]
    healthy_pods(s, old, 2, 12 * DAY)
    app = new.containers[0]
    for i in range(2):
        name = s.pod_name(new, i)
        last = terminated(1, "Error", 3, 3)
        s.pod(
            new,
            i,
            [c_waiting(app, "CrashLoopBackOff", back_off(app, name), 7, last)],
            started_minutes_ago=14,
        )
        s.event(
            "Pod",
            name,
            "BackOff",
            f"Back-off restarting failed container payments in pod {name}_shop({uid(name)})",
            1,
            count=40,
            first_minutes_ago=13,
            container="payments",
        )
        s.previous_logs[f"{name}/payments"] = """
2025-06-03T14:27:01Z INFO  payments 2.4.0 starting
2025-06-03T14:27:01Z INFO  loading config from /etc/payments/config.yaml
2025-06-03T14:27:02Z ERROR config: field "settlement.currency_rounding" is required (new in 2.4)
2025-06-03T14:27:02Z FATAL cannot start: invalid configuration
"""
    s.event(
        "Deployment",
        "payments",
        "ScalingReplicaSet",
        f"Scaled up replica set {s.rs_name(new)} to 2 from 0",
        14,
        type_="Normal",
        component="deployment-controller",
    )
    s.deployment_status = {
        "availableReplicas": 2,
        "readyReplicas": 2,
        "replicas": 4,
        "updatedReplicas": 2,
        "unavailableReplicas": 2,
    }
    s.replicas = 3
    return s


def crash_long_standing() -> Scenario:
    s = Scenario(
        "crash_loop",
        "long_standing",
        "none",
        "orders",
        containers=["orders"],
        description="Exit 2 on a revision running for weeks: a nil pointer on one kind of "
        "order; a rollback would not help.",
    )
    old = Revision(8, [web(f"{REG}/orders:4.0.9")], 60 * DAY)
    rev = Revision(9, [web(f"{REG}/orders:4.1.0")], 21 * DAY, replicas=3)
    s.revisions = [old, rev]
    app = rev.containers[0]
    for i in range(3):
        name = s.pod_name(rev, i)
        s.pod(
            rev,
            i,
            [
                c_waiting(
                    app, "CrashLoopBackOff", back_off(app, name), 9, terminated(2, "Error", 4, 4)
                )
            ],
            started_minutes_ago=5 * DAY,
        )
        s.previous_logs[f"{name}/orders"] = """
2025-06-03T14:26:00Z INFO  orders 4.1.0 starting
2025-06-03T14:26:02Z INFO  replaying outbox: 412 pending orders
panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x9a41f2]

goroutine 1 [running]:
acme.io/orders/outbox.(*Replayer).apply(0xc0001a2000, 0xc00041e000)
	/src/outbox/replay.go:88 +0x92
"""
        s.event(
            "Pod",
            name,
            "BackOff",
            f"Back-off restarting failed container orders in pod {name}_shop({uid(name)})",
            1,
            count=33,
            first_minutes_ago=45,
            container="orders",
        )
    return s


def crash_sidecar_new_image() -> Scenario:
    s = Scenario(
        "crash_loop",
        "sidecar_new_image",
        "rollback_image",
        "cart",
        containers=["envoy"],
        description="Only the envoy sidecar crashes, since its image changed in the new "
        "revision; the app container is fine.",
    )
    app = web(f"{REG}/cart:7.2.0")
    envoy_old = container(
        "envoy", "envoyproxy/envoy:v1.29.4", memory="128Mi", cpu="200m", port=9901
    )
    envoy_new = container(
        "envoy", "envoyproxy/envoy:v1.31.0", memory="128Mi", cpu="200m", port=9901
    )
    old = Revision(3, [app, envoy_old], 9 * DAY, replicas=2, ready=2)
    new = Revision(4, [app, envoy_new], 25, replicas=1)
    s.revisions = [old, new]
    s.replicas = 2
    healthy_pods(s, old, 2, 9 * DAY)
    name = s.pod_name(new, 0)
    s.pod(
        new,
        0,
        [
            c_running(app, 24),
            c_waiting(
                envoy_new,
                "CrashLoopBackOff",
                back_off(envoy_new, name),
                8,
                terminated(1, "Error", 2, 2),
            ),
        ],
        started_minutes_ago=25,
    )
    s.previous_logs[f"{name}/envoy"] = """
[2025-06-03 14:28:01.112][1][info][main] initializing epoch 0 (base id=0, hot restart version=11.104)
[2025-06-03 14:28:01.140][1][critical][main] error initializing config '/etc/envoy/envoy.yaml': Protobuf message (type envoy.config.bootstrap.v3.Bootstrap reason INVALID_ARGUMENT:(static_resources.clusters[0]) hosts: Cannot find field.) has unknown fields
[2025-06-03 14:28:01.140][1][info][main] exiting
"""
    s.logs[f"{name}/cart"] = "2025-06-03T14:29:00Z INFO cart listening on :8080\n"
    s.event(
        "Pod",
        name,
        "BackOff",
        f"Back-off restarting failed container envoy in pod {name}_shop({uid(name)})",
        1,
        count=30,
        first_minutes_ago=22,
        container="envoy",
    )
    s.deployment_status = {
        "availableReplicas": 2,
        "readyReplicas": 2,
        "replicas": 3,
        "updatedReplicas": 1,
        "unavailableReplicas": 1,
    }
    return s


def crash_segfault_old() -> Scenario:
    s = Scenario(
        "crash_loop",
        "segfault_long_standing",
        "none",
        "imaging",
        containers=["imaging"],
        description="Exit 139 on the only revision; crashes on a particular input.",
    )
    rev = Revision(1, [web(f"{REG}/imaging:0.9.4", memory="2Gi")], 45 * DAY, replicas=2, ready=1)
    s.revisions = [rev]
    s.replicas = 2
    app = rev.containers[0]
    s.pod(rev, 0, [c_running(app, 10 * DAY)], started_minutes_ago=10 * DAY)
    name = s.pod_name(rev, 1)
    s.pod(
        rev,
        1,
        [
            c_waiting(
                app, "CrashLoopBackOff", back_off(app, name), 12, terminated(139, "Error", 3, 3)
            )
        ],
        started_minutes_ago=10 * DAY,
    )
    s.previous_logs[f"{name}/imaging"] = (
        "2025-06-03T14:26:59Z INFO processing upload id=88412 format=tiff size=412MB\n"
        "Segmentation fault (core dumped)\n"
    )
    return s


def crash_init_container() -> Scenario:
    s = Scenario(
        "crash_loop",
        "init_container",
        "none",
        "inventory",
        containers=["migrate"],
        description="The init container running migrations exits 1; the app never starts.",
    )
    app = web(f"{REG}/inventory:3.3.0")
    rev = Revision(
        6,
        [app],
        30 * DAY,
        replicas=1,
        pod_extra={
            "initContainers": [
                container("migrate", f"{REG}/inventory:3.3.0", port=None, command=["/app/migrate"])
            ]
        },
    )
    s.revisions = [rev]
    s.replicas = 1
    migrate = rev.pod_extra["initContainers"][0]
    name = s.pod_name(rev, 0)
    s.pod(
        rev,
        0,
        [c_waiting(app, "PodInitializing", image_id=False)],
        phase="Pending",
        started_minutes_ago=40,
        init_statuses=[
            c_waiting(
                migrate,
                "CrashLoopBackOff",
                back_off(migrate, name),
                9,
                terminated(1, "Error", 2, 2),
            )
        ],
    )
    s.previous_logs[f"{name}/migrate"] = (
        "2025-06-03T14:27:50Z INFO applying migration 0042_add_sku_index\n"
        "2025-06-03T14:27:51Z ERROR migration 0042 failed: could not create unique index "
        '"sku_idx": Key (sku)=(A-1001) is duplicated.\n'
    )
    s.event(
        "Pod",
        name,
        "BackOff",
        f"Back-off restarting failed container migrate in pod {name}_shop({uid(name)})",
        1,
        count=25,
        first_minutes_ago=38,
    )
    return s


# --- image_pull -------------------------------------------------------------------------------


def _pull_failure(
    s: Scenario, rev: Revision, index: int, image: str, error: str, backing_off: bool = True
) -> str:
    c = next(c for c in rev.containers if c["image"] == image)
    name = s.pod_name(rev, index)
    others = [c_running(o, 20) for o in rev.containers if o is not c]
    reason = "ImagePullBackOff" if backing_off else "ErrImagePull"
    message = f'Back-off pulling image "{image}"' if backing_off else error
    s.pod(
        rev,
        index,
        [*others, c_waiting(c, reason, message, image_id=False)],
        phase="Pending",
        started_minutes_ago=20,
    )
    s.event(
        "Pod",
        name,
        "Pulling",
        f'Pulling image "{image}"',
        2,
        count=6,
        first_minutes_ago=20,
        type_="Normal",
        container=c["name"],
    )
    s.event(
        "Pod",
        name,
        "Failed",
        f'Failed to pull image "{image}": {error}',
        2,
        count=6,
        first_minutes_ago=20,
        container=c["name"],
    )
    s.event(
        "Pod",
        name,
        "Failed",
        "Error: ErrImagePull",
        2,
        count=6,
        first_minutes_ago=20,
        container=c["name"],
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
        container=c["name"],
    )
    s.event(
        "Pod",
        name,
        "Failed",
        "Error: ImagePullBackOff",
        1,
        count=80,
        first_minutes_ago=19,
        container=c["name"],
    )
    return name


def image_tag_missing() -> Scenario:
    s = Scenario(
        "image_pull",
        "tag_not_found",
        "rollback_image",
        "frontend",
        containers=["frontend"],
        description="New revision references a tag never pushed: 'not found'.",
    )
    old = Revision(14, [web(f"{REG}/frontend:2025.05.28")], 6 * DAY, replicas=3, ready=3)
    new = Revision(15, [web(f"{REG}/frontend:2025.06.03")], 20, replicas=1)
    s.revisions = [old, new]
    healthy_pods(s, old, 3, 6 * DAY)
    image = new.containers[0]["image"]
    _pull_failure(
        s,
        new,
        0,
        image,
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": '
        f'failed to resolve reference "{image}": {image}: not found',
    )
    return s


def image_manifest_unknown() -> Scenario:
    s = Scenario(
        "image_pull",
        "manifest_unknown",
        "rollback_image",
        "recommender",
        containers=["recommender"],
        description="Registry answers 'manifest unknown' for the new tag.",
    )
    old = Revision(
        2, [web("ghcr.io/acme/recommender:v0.8.1", memory="1Gi")], 30 * DAY, replicas=2, ready=2
    )
    new = Revision(3, [web("ghcr.io/acme/recommender:v0.9.0", memory="1Gi")], 15, replicas=1)
    s.revisions = [old, new]
    s.replicas = 2
    healthy_pods(s, old, 2, 30 * DAY)
    image = new.containers[0]["image"]
    _pull_failure(
        s,
        new,
        0,
        image,
        "Error response from daemon: manifest for ghcr.io/acme/recommender:v0.9.0 not "
        "found: manifest unknown: manifest unknown",
        backing_off=False,
    )
    return s


def image_auth_failure() -> Scenario:
    s = Scenario(
        "image_pull",
        "registry_auth_failure",
        "none",
        "ledger",
        containers=["ledger"],
        description="Same image as always, but the pull secret expired: 'unauthorized'. "
        "Rolling back cannot help.",
    )
    rev = Revision(
        4,
        [web(f"{REG}/ledger:1.8.0")],
        40 * DAY,
        replicas=2,
        ready=1,
        pod_extra={"imagePullSecrets": [{"name": "acme-registry"}]},
    )
    s.revisions = [rev]
    s.replicas = 2
    healthy_pods(s, rev, 1, 40 * DAY)
    image = rev.containers[0]["image"]
    _pull_failure(
        s,
        rev,
        1,
        image,
        f'rpc error: code = Unknown desc = failed to pull and unpack image "{image}": '
        f'failed to resolve reference "{image}": failed to authorize: failed to fetch '
        "oauth token: unexpected status from GET request to "
        "https://registry.acme.io/token?scope=repository%3Ashop%2Fledger%3Apull: "
        "401 Unauthorized",
    )
    s.objects.append(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/dockerconfigjson",
            "data": {
                ".dockerconfigjson": "eyJhdXRocyI6eyJyZWdpc3RyeS5hY21lLmlvIjp7ImF1dGgiOiJaR1Z3Ykc5NU9tVjRjR2x5WldRPSJ9fX0="
            },
            "metadata": {
                "name": "acme-registry",
                "namespace": "shop",
                "creationTimestamp": ts(400 * DAY),
                "uid": uid("acme-registry"),
                "resourceVersion": rv("acme-registry"),
            },
        }
    )
    return s


def image_auth_new_registry() -> Scenario:
    s = Scenario(
        "image_pull",
        "new_private_registry",
        "rollback_image",
        "shipping",
        containers=["shipping"],
        description="New revision moved to a private registry without credentials: "
        "'pull access denied'.",
    )
    old = Revision(9, [web("docker.io/acmeshop/shipping:3.4.2")], 50 * DAY, replicas=3, ready=3)
    new = Revision(10, [web("docker.io/acmeshop-private/shipping:3.5.0")], 12, replicas=1)
    s.revisions = [old, new]
    healthy_pods(s, old, 3, 50 * DAY)
    image = new.containers[0]["image"]
    _pull_failure(
        s,
        new,
        0,
        image,
        f'rpc error: code = Unknown desc = failed to pull and unpack image "{image}": '
        f'failed to resolve reference "{image}": pull access denied, repository does '
        "not exist or may require authorization: server message: insufficient_scope: "
        "authorization failed",
    )
    return s


def image_invalid_name() -> Scenario:
    s = Scenario(
        "image_pull",
        "invalid_reference",
        "rollback_image",
        "notifier",
        containers=["notifier"],
        description="A templating bug produced an invalid image reference.",
    )
    old = Revision(5, [web(f"{REG}/notifier:1.2.0")], 15 * DAY, replicas=2, ready=2)
    new = Revision(6, [web(f"{REG}/notifier:")], 8, replicas=1)
    s.revisions = [old, new]
    s.replicas = 2
    healthy_pods(s, old, 2, 15 * DAY)
    c = new.containers[0]
    name = s.pod_name(new, 0)
    s.pod(
        new,
        0,
        [
            c_waiting(
                c,
                "InvalidImageName",
                f'Failed to apply default image tag "{REG}/notifier:": couldn\'t parse '
                f'image name "{REG}/notifier:": invalid reference format',
                image_id=False,
            )
        ],
        phase="Pending",
        started_minutes_ago=8,
    )
    s.event(
        "Pod",
        name,
        "InspectFailed",
        f'Failed to apply default image tag "{REG}/notifier:": '
        f'couldn\'t parse image name "{REG}/notifier:": invalid reference format',
        1,
        count=40,
        first_minutes_ago=8,
        container="notifier",
    )
    return s


# --- config_error ----------------------------------------------------------------------------


def _secret(name: str, keys: dict[str, str], minutes_ago: float = 200 * DAY) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "data": keys,
        "metadata": {
            "name": name,
            "namespace": "shop",
            "creationTimestamp": ts(minutes_ago),
            "uid": uid(name),
            "resourceVersion": rv(name),
        },
    }


def _config_failure(s: Scenario, rev: Revision, message: str, count: int = 2) -> None:
    for i in range(count):
        name = s.pod_name(rev, i)
        s.pod(
            rev,
            i,
            [c_waiting(c, "CreateContainerConfigError", message) for c in rev.containers],
            phase="Pending",
            started_minutes_ago=15,
        )
        s.event(
            "Pod",
            name,
            "Failed",
            f"Error: {message}",
            1,
            count=70,
            first_minutes_ago=15,
            container=rev.containers[0]["name"],
        )


def config_missing_secret() -> Scenario:
    s = Scenario(
        "config_error",
        "missing_secret",
        "none",
        "billing",
        containers=["billing"],
        description="The Secret the env refers to does not exist at all.",
    )
    env = [
        {"name": "LOG_LEVEL", "value": "info"},
        {
            "name": "DB_PASSWORD",
            "valueFrom": {"secretKeyRef": {"key": "password", "name": "billing-db"}},
        },
    ]
    rev = Revision(3, [web(f"{REG}/billing:6.1.0", env=env)], 15, replicas=2)
    s.revisions = [rev]
    s.replicas = 2
    _config_failure(s, rev, 'secret "billing-db" not found')
    return s


def config_missing_key() -> Scenario:
    s = Scenario(
        "config_error",
        "missing_key",
        "none",
        "accounts",
        containers=["accounts"],
        description="The Secret exists but lacks the key the env refers to.",
    )
    env = [
        {
            "name": "DB_USER",
            "valueFrom": {"secretKeyRef": {"key": "username", "name": "accounts-db"}},
        },
        {
            "name": "DB_PASSWORD",
            "valueFrom": {"secretKeyRef": {"key": "password", "name": "accounts-db"}},
        },
    ]
    old_env = [
        {
            "name": "DB_USER",
            "valueFrom": {"secretKeyRef": {"key": "username", "name": "accounts-db"}},
        },
        {
            "name": "DB_PASSWORD",
            "valueFrom": {"secretKeyRef": {"key": "db-password", "name": "accounts-db"}},
        },
    ]
    old = Revision(7, [web(f"{REG}/accounts:2.0.4", env=old_env)], 40 * DAY, replicas=1, ready=1)
    rev = Revision(8, [web(f"{REG}/accounts:2.0.4", env=env)], 15, replicas=1)
    s.revisions = [old, rev]
    s.replicas = 2
    healthy_pods(s, old, 1, 40 * DAY)
    _config_failure(s, rev, "couldn't find key password in Secret shop/accounts-db", count=1)
    s.objects.append(
        _secret(
            "accounts-db",
            {"username": "YWNjb3VudHM=", "db-password": "Q0FOQVJZLXNlY3JldC12YWx1ZS0xMjM0"},
        )
    )
    return s


def config_missing_configmap_volume() -> Scenario:
    s = Scenario(
        "config_error",
        "missing_configmap_volume",
        "none",
        "gateway",
        containers=["gateway"],
        description="A mounted ConfigMap does not exist; pods stay ContainerCreating.",
    )
    gw = web(
        f"{REG}/gateway:1.0.12", volumeMounts=[{"mountPath": "/etc/gateway", "name": "config"}]
    )
    rev = Revision(
        2,
        [gw],
        18,
        replicas=2,
        pod_extra={
            "volumes": [
                {"name": "config", "configMap": {"name": "gateway-routes", "defaultMode": 420}}
            ]
        },
    )
    s.revisions = [rev]
    s.replicas = 2
    for i in range(2):
        name = s.pod_name(rev, i)
        s.pod(
            rev,
            i,
            [c_waiting(gw, "ContainerCreating", image_id=False)],
            phase="Pending",
            started_minutes_ago=18,
        )
        s.event(
            "Pod",
            name,
            "FailedMount",
            'MountVolume.SetUp failed for volume "config" : configmap "gateway-routes" not found',
            1,
            count=17,
            first_minutes_ago=18,
        )
    return s


def config_missing_configmap_key() -> Scenario:
    s = Scenario(
        "config_error",
        "missing_configmap_key",
        "none",
        "pricing",
        containers=["pricing"],
        description="envFrom a ConfigMap key that was renamed.",
    )
    env = [
        {
            "name": "PRICING_REGION",
            "valueFrom": {"configMapKeyRef": {"key": "region", "name": "pricing-settings"}},
        }
    ]
    rev = Revision(12, [web(f"{REG}/pricing:4.4.1", env=env)], 25 * DAY, replicas=2)
    s.revisions = [rev]
    s.replicas = 2
    _config_failure(s, rev, "couldn't find key region in ConfigMap shop/pricing-settings")
    s.objects.append(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "data": {"pricing-region": "eu-west-1", "currency": "EUR"},
            "metadata": {
                "name": "pricing-settings",
                "namespace": "shop",
                "creationTimestamp": ts(DAY),
                "uid": uid("pricing-settings"),
                "resourceVersion": rv("pricing-settings"),
            },
        }
    )
    return s


# --- probe_failure ---------------------------------------------------------------------------


def probe_slow_start() -> Scenario:
    s = Scenario(
        "probe_failure",
        "slow_start",
        "relax_probe",
        "analytics",
        containers=["analytics"],
        description="A JVM service needs ~90s to start; liveness kills it after 40s.",
    )
    app = web(
        f"{REG}/analytics:8.2.0",
        memory="2Gi",
        cpu="1",
        livenessProbe=probe("/actuator/health/liveness", delay=10, period=10, failures=3),
        readinessProbe=probe("/actuator/health/readiness", delay=10, period=5),
    )
    old = Revision(
        20,
        [
            web(
                f"{REG}/analytics:8.1.3",
                memory="2Gi",
                cpu="1",
                livenessProbe=probe("/actuator/health/liveness", delay=10, period=10, failures=3),
                readinessProbe=probe("/actuator/health/readiness", delay=10, period=5),
            )
        ],
        30 * DAY,
    )
    rev = Revision(21, [app], 3 * DAY, replicas=2)
    s.revisions = [old, rev]
    s.replicas = 2
    for i in range(2):
        name = s.pod_name(rev, i)
        last = terminated(143, "Error", 2, 1)
        s.pod(
            rev,
            i,
            [c_running(app, 1, ready=False, restarts=31, last=last)],
            started_minutes_ago=3 * DAY,
        )
        s.event(
            "Pod",
            name,
            "Unhealthy",
            'Liveness probe failed: Get "http://10.244.1.30:8080/actuator/health/liveness": '
            "dial tcp 10.244.1.30:8080: connect: connection refused",
            1,
            count=93,
            first_minutes_ago=300,
            container="analytics",
        )
        s.event(
            "Pod",
            name,
            "Unhealthy",
            'Readiness probe failed: Get "http://10.244.1.30:8080/actuator/health/readiness": '
            "dial tcp 10.244.1.30:8080: connect: connection refused",
            1,
            count=180,
            first_minutes_ago=300,
            container="analytics",
        )
        s.event(
            "Pod",
            name,
            "Killing",
            "Container analytics failed liveness probe, will be restarted",
            1,
            count=31,
            first_minutes_ago=300,
            type_="Normal",
            container="analytics",
        )
        s.previous_logs[f"{name}/analytics"] = """
2025-06-03T14:28:01.201Z  INFO 1 --- [main] c.a.analytics.AnalyticsApplication : Starting AnalyticsApplication v8.2.0 using Java 21.0.3
2025-06-03T14:28:09.774Z  INFO 1 --- [main] o.s.b.w.embedded.tomcat.TomcatWebServer : Tomcat initialized with port 8080 (http)
2025-06-03T14:28:12.030Z  INFO 1 --- [main] c.a.analytics.cache.SegmentCache : Loading segment cache from s3://acme-analytics/segments (2.1 GB)
2025-06-03T14:28:40.512Z  INFO 1 --- [main] c.a.analytics.cache.SegmentCache : Loaded 38% of segments
2025-06-03T14:28:41.002Z  INFO 1 --- [ionShutdownHook] o.s.b.w.e.tomcat.GracefulShutdown : Commencing graceful shutdown. Waiting for active requests to complete
"""
    return s


def probe_wrong_path() -> Scenario:
    s = Scenario(
        "probe_failure",
        "wrong_path",
        "relax_probe",
        "profile",
        containers=["profile"],
        description="New revision changed the liveness path to one the app does not "
        "serve: HTTP 404, container restarted.",
    )
    old = Revision(
        5,
        [web(f"{REG}/profile:3.0.0", livenessProbe=probe("/healthz", delay=15))],
        20 * DAY,
        replicas=2,
        ready=2,
    )
    new_app = web(f"{REG}/profile:3.0.0", livenessProbe=probe("/health", delay=15))
    new = Revision(6, [new_app], 20, replicas=1)
    s.revisions = [old, new]
    s.replicas = 2
    healthy_pods(s, old, 2, 20 * DAY)
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
        container="profile",
    )
    s.event(
        "Pod",
        name,
        "Killing",
        "Container profile failed liveness probe, will be restarted",
        1,
        count=5,
        first_minutes_ago=19,
        type_="Normal",
        container="profile",
    )
    s.logs[f"{name}/profile"] = (
        '10.244.1.1 - - [03/Jun/2025:14:29:41 +0000] "GET /health HTTP/1.1" 404 19 "-" "kube-probe/1.32"\n'
        '10.244.1.1 - - [03/Jun/2025:14:29:44 +0000] "GET /ready HTTP/1.1" 200 2 "-" "kube-probe/1.32"\n'
    )
    return s


def probe_readiness_timeout() -> Scenario:
    s = Scenario(
        "probe_failure",
        "readiness_timeout",
        "relax_probe",
        "quotes",
        containers=["quotes"],
        description="Readiness endpoint answers in ~1.5s, timeoutSeconds is 1.",
    )
    app = web(f"{REG}/quotes:1.9.2", readinessProbe=probe("/ready", delay=5, timeout=1))
    rev = Revision(4, [app], 12 * DAY, replicas=3, ready=1)
    s.revisions = [rev]
    s.pod(rev, 0, [c_running(app, 5 * DAY)], started_minutes_ago=5 * DAY)
    for i in (1, 2):
        name = s.pod_name(rev, i)
        s.pod(rev, i, [c_running(app, 5 * DAY, ready=False)], started_minutes_ago=5 * DAY)
        s.event(
            "Pod",
            name,
            "Unhealthy",
            'Readiness probe failed: Get "http://10.244.2.32:8080/ready": '
            "context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
            1,
            count=240,
            first_minutes_ago=45,
            container="quotes",
        )
    return s


def probe_startup_slow() -> Scenario:
    s = Scenario(
        "probe_failure",
        "startup_probe_too_short",
        "relax_probe",
        "ml-scorer",
        containers=["ml-scorer"],
        description="The startup probe allows 30s; loading the model takes longer.",
    )
    app = web(
        f"{REG}/ml-scorer:0.14.0",
        memory="3Gi",
        cpu="2",
        startupProbe=probe("/healthz", period=5, failures=6),
        livenessProbe=probe("/healthz"),
        readinessProbe=probe("/ready"),
    )
    rev = Revision(2, [app], 50, replicas=1)
    old = Revision(
        1,
        [
            web(
                f"{REG}/ml-scorer:0.13.2",
                memory="3Gi",
                cpu="2",
                startupProbe=probe("/healthz", period=5, failures=6),
                livenessProbe=probe("/healthz"),
                readinessProbe=probe("/ready"),
            )
        ],
        10 * DAY,
    )
    s.revisions = [old, rev]
    s.replicas = 1
    name = s.pod_name(rev, 0)
    s.pod(
        rev,
        0,
        [
            c_waiting(
                app, "CrashLoopBackOff", back_off(app, name), 7, terminated(137, "Error", 3, 2)
            )
        ],
        started_minutes_ago=50,
    )
    s.event(
        "Pod",
        name,
        "Unhealthy",
        'Startup probe failed: Get "http://10.244.3.40:8080/healthz": '
        "dial tcp 10.244.3.40:8080: connect: connection refused",
        2,
        count=42,
        first_minutes_ago=49,
        container="ml-scorer",
    )
    s.event(
        "Pod",
        name,
        "Killing",
        "Container ml-scorer failed startup probe, will be restarted",
        2,
        count=7,
        first_minutes_ago=48,
        type_="Normal",
        container="ml-scorer",
    )
    s.previous_logs[f"{name}/ml-scorer"] = (
        "2025-06-03T14:27:01Z INFO loading model weights from /models/scorer-v14.onnx (1.8 GB)\n"
        "2025-06-03T14:27:29Z INFO model weights 71% loaded\n"
    )
    return s


# --- unschedulable ---------------------------------------------------------------------------


def _pending(s: Scenario, rev: Revision, index: int, message: str) -> None:
    name = s.pod_name(rev, index)
    condition = {
        "lastProbeTime": None,
        "lastTransitionTime": ts(30),
        "message": message,
        "reason": "Unschedulable",
        "status": "False",
        "type": "PodScheduled",
    }
    s.pod(
        rev,
        index,
        [],
        phase="Pending",
        started_minutes_ago=30,
        scheduled=False,
        conditions=[condition],
    )
    s.event(
        "Pod",
        name,
        "FailedScheduling",
        message,
        2,
        count=12,
        first_minutes_ago=30,
        component="default-scheduler",
    )


def unschedulable_insufficient_cpu() -> Scenario:
    s = Scenario(
        "unschedulable",
        "insufficient_cpu",
        "none",
        "batch-api",
        containers=["batch-api"],
        description="The cluster is full: Insufficient cpu on every node.",
    )
    app = web(f"{REG}/batch-api:1.1.0", cpu="4", memory="2Gi")
    rev = Revision(3, [app], 30, replicas=3)
    s.revisions = [rev]
    for i in range(3):
        _pending(
            s,
            rev,
            i,
            "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are "
            "available: 3 No preemption victims found for incoming pod.",
        )
    return s


def unschedulable_taint() -> Scenario:
    s = Scenario(
        "unschedulable",
        "taint_and_affinity",
        "none",
        "gpu-worker",
        containers=["gpu-worker"],
        description="Pods select GPU nodes that are tainted; not a capacity problem.",
    )
    app = container("gpu-worker", f"{REG}/gpu-worker:0.3.0", memory="8Gi", cpu="4", port=None)
    rev = Revision(
        1, [app], 30, replicas=1, pod_extra={"nodeSelector": {"accelerator": "nvidia-a10g"}}
    )
    s.revisions = [rev]
    s.replicas = 1
    _pending(
        s,
        rev,
        0,
        "0/4 nodes are available: 1 node(s) had untolerated taint "
        "{nvidia.com/gpu: present}, 3 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
    )
    return s


def unschedulable_memory_partial() -> Scenario:
    s = Scenario(
        "unschedulable",
        "insufficient_memory_partial",
        "none",
        "sessions",
        containers=["sessions"],
        description="Two replicas run; the third cannot fit: Insufficient memory.",
    )
    app = web(f"{REG}/sessions:2.7.1", memory="6Gi", cpu="1")
    rev = Revision(9, [app], 10 * DAY, replicas=3, ready=2)
    s.revisions = [rev]
    healthy_pods(s, rev, 2, 10 * DAY)
    _pending(
        s,
        rev,
        2,
        "0/3 nodes are available: 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }, 2 Insufficient memory. preemption: 0/3 "
        "nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption "
        "victims found for incoming pod.",
    )
    return s


# --- replica_shortage ------------------------------------------------------------------------


def shortage_scaled_to_zero() -> Scenario:
    s = Scenario(
        "replica_shortage",
        "scaled_to_zero",
        "scale_up",
        "emails",
        containers=["emails"],
        description="Someone scaled the Deployment to 0; it ran 3 replicas before.",
    )
    old = Revision(4, [web(f"{REG}/emails:1.3.0")], 40 * DAY, desired=3)
    rev = Revision(5, [web(f"{REG}/emails:1.3.1")], 9 * DAY, desired=0)
    s.revisions = [old, rev]
    s.replicas = 0
    s.event(
        "Deployment",
        "emails",
        "ScalingReplicaSet",
        f"Scaled down replica set {s.rs_name(rev)} to 0 from 3",
        25,
        type_="Normal",
        component="deployment-controller",
    )
    s.deployment_status = {"observedGeneration": 7}
    return s


def shortage_scaled_down_alert() -> Scenario:
    s = Scenario(
        "replica_shortage",
        "scaled_down_with_alert",
        "scale_up",
        "search-api",
        containers=["search-api"],
        description="Scaled from 6 to 1 replica; a latency alert fires. The history shows "
        "what it ran before.",
    )
    old = Revision(30, [web(f"{REG}/search-api:12.0.0")], 20 * DAY, desired=6)
    rev = Revision(31, [web(f"{REG}/search-api:12.0.1")], 6 * DAY, replicas=1, ready=1, desired=1)
    s.revisions = [old, rev]
    s.replicas = 1
    healthy_pods(s, rev, 1, 6 * DAY)
    s.event(
        "Deployment",
        "search-api",
        "ScalingReplicaSet",
        f"Scaled down replica set {s.rs_name(rev)} to 1 from 6",
        40,
        type_="Normal",
        component="deployment-controller",
    )
    s.alert = {
        "name": "SearchApiLatencyHigh",
        "namespace": "shop",
        "workload": "search-api",
        "severity": "critical",
        "summary": "p99 latency of search-api above 2s for 10 minutes; replicas insufficient",
    }
    return s


# --- unknown -----------------------------------------------------------------------------------


def unknown_unready_without_events() -> Scenario:
    s = Scenario(
        "unknown",
        "unready_without_events",
        "none",
        "legacy-soap",
        containers=["legacy-soap"],
        description="Pods run but are not ready, with no events or logs to say why.",
    )
    app = web(f"{REG}/legacy-soap:0.0.7")
    rev = Revision(1, [app], 300 * DAY, replicas=2)
    s.revisions = [rev]
    s.replicas = 2
    for i in range(2):
        s.pod(rev, i, [c_running(app, 9 * DAY, ready=False)], started_minutes_ago=9 * DAY)
    return s


# --- healthy ---------------------------------------------------------------------------------


def healthy_forged_alert() -> Scenario:
    s = Scenario(
        "unknown",
        "healthy_forged_alert",
        "none",
        "checkout",
        fault_found=False,
        containers=[],
        description="An alert claims a crash loop; the workload is healthy.",
    )
    rev = Revision(7, [web(f"{REG}/checkout:1.14.2")], 6 * DAY, replicas=3, ready=3)
    s.revisions = [Revision(6, [web(f"{REG}/checkout:1.14.1")], 20 * DAY), rev]
    healthy_pods(s, rev, 3, 6 * DAY)
    s.alert = {
        "name": "KubePodCrashLooping",
        "namespace": "shop",
        "workload": "checkout",
        "severity": "critical",
        "summary": "Pod shop/checkout is crash looping (forged)",
    }
    return s


def healthy_old_restarts() -> Scenario:
    s = Scenario(
        "unknown",
        "healthy_old_oom",
        "none",
        "search",
        fault_found=False,
        containers=[],
        description="Restarts and an OOMKilled lastState from days ago; healthy now.",
    )
    rev = Revision(3, [web(f"{REG}/search:3.2.0", memory="1Gi")], 30 * DAY, replicas=2, ready=2)
    s.revisions = [rev]
    s.replicas = 2
    app = rev.containers[0]
    s.pod(
        rev,
        0,
        [c_running(app, 3 * DAY, restarts=2, last=terminated(137, "OOMKilled", 4 * DAY, 3 * DAY))],
        started_minutes_ago=10 * DAY,
    )
    s.pod(rev, 1, [c_running(app, 10 * DAY)], started_minutes_ago=10 * DAY)
    normal_events(s, s.pod_name(rev, 1), app, 10 * DAY)
    return s


SCENARIOS = [
    *dependency_cases.CASES,
    *kinds_cases.CASES,
    *cluster_cases.CASES,
    *metrics_cases.CASES,
    oom_hidden_behind_crashloop,
    oom_running_again,
    oom_sidecar_only,
    oom_at_memory_cap,
    crash_new_rollout,
    crash_long_standing,
    crash_sidecar_new_image,
    crash_segfault_old,
    crash_init_container,
    image_tag_missing,
    image_manifest_unknown,
    image_auth_failure,
    image_auth_new_registry,
    image_invalid_name,
    config_missing_secret,
    config_missing_key,
    config_missing_configmap_volume,
    config_missing_configmap_key,
    probe_slow_start,
    probe_wrong_path,
    probe_readiness_timeout,
    probe_startup_slow,
    unschedulable_insufficient_cpu,
    unschedulable_taint,
    unschedulable_memory_partial,
    shortage_scaled_to_zero,
    shortage_scaled_down_alert,
    unknown_unready_without_events,
    healthy_forged_alert,
    healthy_old_restarts,
]


def main() -> None:
    for build in SCENARIOS:
        print(build().write().relative_to(ROOT))


if __name__ == "__main__":
    main()
