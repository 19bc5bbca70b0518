# ruff: noqa: E501  (verbatim kubelet, scheduler and controller messages are data)
"""Scenario cases of the failure classes that live around the workload, not in its code:
`evicted`, `node_failure`, `storage`, `quota_exceeded` and `rollout_stuck`.

Every message is the component's own wording (kubelet eviction manager, node lifecycle and
taint-eviction controllers, scheduler VolumeBinding plugin, kubelet volume manager,
attach-detach controller, ResourceQuota and LimitRanger admission, PodSecurity admission,
deployment controller); see the rule modules for their sources.
"""

from __future__ import annotations

from kit import (
    DAY,
    NODES,
    REG,
    Obj,
    Revision,
    Scenario,
    c_running,
    c_waiting,
    container,
    digest,
    healthy_pods,
    terminated,
    ts,
    uid,
    web,
)

# --- evicted -----------------------------------------------------------------------------------


def _evicted_pod(
    s: Scenario,
    rev: Revision,
    index: int,
    message: str,
    minutes_ago: float,
    started_minutes_ago: float,
    kind: str = "TerminationByKubelet",
) -> str:
    """Add a pod the kubelet evicted `minutes_ago`, with its Evicted event; return its name."""
    name = s.pod_name(rev, index)
    statuses = [
        {
            **c_running(c, started_minutes_ago, ready=False),
            "started": False,
            "state": {"terminated": terminated(137, "Error", started_minutes_ago, minutes_ago)},
        }
        for c in rev.containers
    ]
    unready = " ".join(c["name"] for c in rev.containers)
    s.pod(
        rev,
        index,
        statuses,
        phase="Failed",
        started_minutes_ago=started_minutes_ago,
        conditions=[
            {
                "lastProbeTime": None,
                "lastTransitionTime": ts(minutes_ago),
                "message": message,
                "reason": kind,
                "status": "True",
                "type": "DisruptionTarget",
            },
            {
                "lastProbeTime": None,
                "lastTransitionTime": ts(minutes_ago),
                "status": "False",
                "type": "PodReadyToStartContainers",
            },
            {
                "lastProbeTime": None,
                "lastTransitionTime": ts(started_minutes_ago),
                "status": "True",
                "type": "Initialized",
            },
            {
                "lastProbeTime": None,
                "lastTransitionTime": ts(minutes_ago),
                "message": f"containers with unready status: [{unready}]",
                "reason": "PodFailed",
                "status": "False",
                "type": "Ready",
            },
            {
                "lastProbeTime": None,
                "lastTransitionTime": ts(minutes_ago),
                "reason": "PodFailed",
                "status": "False",
                "type": "ContainersReady",
            },
            {
                "lastProbeTime": None,
                "lastTransitionTime": ts(started_minutes_ago),
                "status": "True",
                "type": "PodScheduled",
            },
        ],
    )
    s.objects[-1]["status"].update(reason="Evicted", message=message)
    node = s.objects[-1]["spec"]["nodeName"]
    s.event("Pod", name, "Evicted", message, minutes_ago, host=node)
    for c in rev.containers:
        s.event(
            "Pod",
            name,
            "Killing",
            f"Stopping container {c['name']}",
            minutes_ago,
            type_="Normal",
            container=c["name"],
            host=node,
        )
    return name


def evicted_memory_pressure() -> Scenario:
    s = Scenario(
        "evicted",
        "memory_pressure",
        "none",
        "recommender",
        containers=["recommender"],
        description="The node ran low on memory; the kubelet evicted the pods using most "
        "above their request (912Mi used, 256Mi requested).",
    )
    app = web(f"{REG}/recommender:3.4.0", memory="1Gi", memory_request="256Mi")
    rev = Revision(8, [app], 12 * DAY, replicas=3, ready=2)
    s.revisions = [rev]
    healthy_pods(s, rev, 1, 12 * DAY)
    for index, (evicted, started) in enumerate(((18, 3 * DAY), (6, 17)), start=1):
        _evicted_pod(
            s,
            rev,
            index * 3 + 1,
            "The node was low on resource: memory. Threshold quantity: 100Mi, available: "
            f"{84 + index}Mi. Container recommender was using {900 + 12 * index}Mi, request is "
            "256Mi, has larger consumption of memory. ",
            evicted,
            started,
        )
    s.pod(rev, 5, [c_running(app, 17)], started_minutes_ago=17)
    s.pod(rev, 8, [c_running(app, 5, ready=False)], started_minutes_ago=6)
    s.deployment_status = {
        "availableReplicas": 2,
        "readyReplicas": 2,
        "replicas": 3,
        "updatedReplicas": 3,
        "unavailableReplicas": 1,
    }
    return s


def evicted_ephemeral_storage_limit() -> Scenario:
    s = Scenario(
        "evicted",
        "ephemeral_storage_limit",
        "none",
        "thumbnailer",
        containers=["thumbnailer"],
        description="The container wrote more scratch files than its ephemeral-storage "
        "limit allows; the kubelet evicted the pod.",
    )
    app = web(f"{REG}/thumbnailer:1.7.2", memory="1Gi")
    app["resources"]["limits"]["ephemeral-storage"] = "1Gi"
    app["resources"]["requests"]["ephemeral-storage"] = "512Mi"
    rev = Revision(5, [app], 20 * DAY, replicas=2, ready=1)
    s.revisions = [rev]
    s.replicas = 2
    healthy_pods(s, rev, 1, 20 * DAY)
    _evicted_pod(
        s,
        rev,
        1,
        'Container thumbnailer exceeded its local ephemeral storage limit "1Gi". ',
        9,
        2 * DAY,
    )
    s.pod(rev, 2, [c_running(app, 8, ready=False)], started_minutes_ago=9)
    return s


def evicted_disk_pressure() -> Scenario:
    s = Scenario(
        "evicted",
        "disk_pressure",
        "none",
        "search-indexer",
        containers=["search-indexer"],
        description="The node ran low on ephemeral storage; the indexer, writing 12Gi with no "
        "request, was evicted from it twice.",
    )
    app = web(f"{REG}/search-indexer:0.22.0", memory="2Gi")
    rev = Revision(3, [app], 15 * DAY, replicas=2, ready=1)
    s.revisions = [rev]
    s.replicas = 2
    healthy_pods(s, rev, 1, 15 * DAY)
    for index, evicted in ((2, 41), (5, 12)):
        _evicted_pod(
            s,
            rev,
            index,
            "The node was low on resource: ephemeral-storage. Threshold quantity: 2Gi, "
            f"available: {1536 - index}Mi. Container search-indexer was using 12Gi, request is "
            "0, has larger consumption of ephemeral-storage. ",
            evicted,
            evicted + 30,
        )
    s.pod(rev, 8, [c_running(app, 11, ready=False)], started_minutes_ago=12)
    return s


def evicted_rejected_under_pressure() -> Scenario:
    s = Scenario(
        "evicted",
        "rejected_disk_pressure",
        "none",
        "exporter",
        containers=["exporter"],
        description="The kubelet rejected the new pod at admission: its node had DiskPressure "
        "(phase Failed, reason Evicted, 'Pod was rejected').",
    )
    app = web(f"{REG}/exporter:1.1.0", memory="128Mi")
    rev = Revision(2, [app], 30 * DAY, replicas=1)
    s.revisions = [rev]
    s.replicas = 1
    name = s.pod_name(rev, 2)
    message = "Pod was rejected: The node had condition: [DiskPressure]. "
    s.pod(rev, 2, [], phase="Failed", started_minutes_ago=3, scheduled=False)
    s.objects[-1]["spec"]["nodeName"] = NODES[2]
    s.objects[-1]["status"].update(reason="Evicted", message=message, startTime=ts(3))
    s.event("Pod", name, "Evicted", "The node had condition: [DiskPressure]. ", 3, host=NODES[2])
    s.deployment_status = {"replicas": 1, "unavailableReplicas": 1}
    return s


def healthy_old_eviction() -> Scenario:
    s = Scenario(
        "unknown",
        "healthy_old_eviction",
        "none",
        "recommender",
        fault_found=False,
        containers=[],
        description="A pod evicted three days ago lingers (Failed pods wait for garbage "
        "collection); a rollout since then runs healthy.",
    )
    old = Revision(7, [web(f"{REG}/recommender:3.3.9", memory="1Gi")], 20 * DAY)
    rev = Revision(8, [web(f"{REG}/recommender:3.4.0", memory="1Gi")], DAY, replicas=3, ready=3)
    s.revisions = [old, rev]
    _evicted_pod(
        s,
        old,
        1,
        "The node was low on resource: memory. Threshold quantity: 100Mi, available: 91Mi. "
        "Container recommender was using 1010Mi, request is 1Gi, has larger consumption of memory. ",
        3 * DAY,
        9 * DAY,
    )
    healthy_pods(s, rev, 3, DAY)
    return s


# --- quota_exceeded and rollout_stuck ---------------------------------------------------------


def _condition(kind: str, status: str, reason: str, message: str, minutes_ago: float) -> Obj:
    return {
        "lastTransitionTime": ts(minutes_ago),
        "lastUpdateTime": ts(minutes_ago),
        "message": message,
        "reason": reason,
        "status": status,
        "type": kind,
    }


def _replica_failure(message: str, minutes_ago: float) -> Obj:
    condition = _condition("ReplicaFailure", "True", "FailedCreate", message, minutes_ago)
    del condition["lastUpdateTime"]  # a ReplicaSet condition has only a transition time
    return condition


def _refused(s: Scenario, rev: Revision, error: str, first: float, count: int) -> str:
    """Record the ReplicaSet controller's FailedCreate for `rev`; return the refused pod."""
    rs = s.rs_name(rev)
    pod = f"{rs}-{digest(rs, 'refused', length=5)}"
    s.event(
        "ReplicaSet",
        rs,
        "FailedCreate",
        f"Error creating: {error.format(pod=pod)}",
        1,
        count=count,
        first_minutes_ago=first,
        component="replicaset-controller",
    )
    return pod


def _rollout_status(s: Scenario, new: Revision, old_ready: int, conditions: list[Obj]) -> None:
    s.deployment_status = {
        "availableReplicas": old_ready,
        "readyReplicas": old_ready,
        "replicas": old_ready + (new.created or 0),
        "updatedReplicas": new.created or 0,
        "unavailableReplicas": max(s.replicas - old_ready, 0) + (new.created or 0),
        "conditions": conditions,
    }


def quota_resourcequota_memory() -> Scenario:
    s = Scenario(
        "quota_exceeded",
        "resourcequota_memory",
        "none",
        "storefront",
        containers=["storefront"],
        description="Scaled to 4, but the namespace's ResourceQuota allows only 2 pods' memory.",
    )
    app = web(f"{REG}/storefront:9.0.1", memory="1Gi")
    error = (
        'pods "{pod}" is forbidden: exceeded quota: shop-compute, requested: '
        "limits.memory=1Gi, used: limits.memory=2Gi, limited: limits.memory=2Gi"
    )
    rev = Revision(17, [app], 8 * DAY, replicas=4, ready=2, created=2)
    s.revisions = [rev]
    s.replicas = 4
    healthy_pods(s, rev, 2, 8 * DAY)
    pod = _refused(s, rev, error, 22, 18)
    rev.conditions = [_replica_failure(error.format(pod=pod), 22)]
    s.deployment_status = {
        "availableReplicas": 2,
        "readyReplicas": 2,
        "replicas": 2,
        "updatedReplicas": 2,
        "unavailableReplicas": 2,
        "conditions": [
            _condition(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                22,
            ),
            {
                **_replica_failure(error.format(pod=pod), 22),
                "lastUpdateTime": ts(22),
            },
            _condition(
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{s.rs_name(rev)}" has successfully progressed.',
                8 * DAY,
            ),
        ],
    }
    return s


def quota_limitrange_max_memory() -> Scenario:
    s = Scenario(
        "quota_exceeded",
        "limitrange_max_memory",
        "none",
        "catalog-api",
        containers=["catalog-api"],
        description="Revision 5 raised the memory limit to 2Gi; the namespace's LimitRange "
        "allows 1Gi per container. The rollout also timed out: the LimitRange says why.",
    )
    old = Revision(
        4, [web(f"{REG}/catalog-api:3.2.0", memory="1Gi")], 30 * DAY, replicas=2, ready=2
    )
    new = Revision(5, [web(f"{REG}/catalog-api:3.2.0", memory="2Gi")], 40, replicas=1, created=0)
    s.revisions = [old, new]
    s.replicas = 2
    healthy_pods(s, old, 2, 30 * DAY)
    error = 'pods "{pod}" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi'
    pod = _refused(s, new, error, 40, 25)
    new.conditions = [_replica_failure(error.format(pod=pod), 40)]
    _rollout_status(
        s,
        new,
        2,
        [
            _condition(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                30 * DAY,
            ),
            {**_replica_failure(error.format(pod=pod), 40), "lastUpdateTime": ts(40)},
            _condition(
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{s.rs_name(new)}" has timed out progressing.',
                30,
            ),
        ],
    )
    return s


def quota_must_specify_limits() -> Scenario:
    s = Scenario(
        "quota_exceeded",
        "must_specify_limits",
        "none",
        "orders-api",
        containers=["orders-api", "metrics-exporter"],
        description="Revision 8 added a sidecar without limits; the namespace's quota admits "
        "only pods that set them.",
    )
    app = web(f"{REG}/orders-api:6.0.4")
    sidecar = container(
        "metrics-exporter", "prom/statsd-exporter:v0.26.1", memory=None, cpu=None, port=9102
    )
    old = Revision(7, [app], 25 * DAY, replicas=3, ready=3)
    new = Revision(8, [app, sidecar], 6, replicas=1, created=0)
    s.revisions = [old, new]
    healthy_pods(s, old, 3, 25 * DAY)
    _refused(
        s,
        new,
        'pods "{pod}" is forbidden: failed quota: compute-quota: must specify limits.cpu for: '
        "metrics-exporter; limits.memory for: metrics-exporter",
        6,
        9,
    )
    _rollout_status(
        s,
        new,
        3,
        [
            _condition(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                25 * DAY,
            ),
            _condition(
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                f'ReplicaSet "{s.rs_name(new)}" is progressing.',
                6,
            ),
        ],
    )
    return s


def quota_pod_count() -> Scenario:
    s = Scenario(
        "quota_exceeded",
        "object_count_pods",
        "none",
        "search",
        containers=["search"],
        description="Scaled from 2 to 4 replicas; the namespace's object-count quota is at "
        "its 20 pods. Only the ReplicaSet's condition says so.",
    )
    app = web(f"{REG}/search:3.2.0", memory="1Gi")
    rev = Revision(3, [app], 30 * DAY, replicas=4, ready=2, created=2)
    s.revisions = [rev]
    s.replicas = 4
    healthy_pods(s, rev, 2, 30 * DAY)
    rs = s.rs_name(rev)
    rev.conditions = [
        _replica_failure(
            f'pods "{rs}-{digest(rs, "refused", length=5)}" is forbidden: exceeded quota: object-counts, '
            "requested: pods=1, used: pods=20, limited: pods=20",
            14,
        )
    ]
    s.deployment_status = {
        "availableReplicas": 2,
        "readyReplicas": 2,
        "replicas": 2,
        "updatedReplicas": 2,
        "unavailableReplicas": 2,
    }
    return s


def _admission_refused(
    s: Scenario, old: Revision, new: Revision, error: str, minutes_ago: float
) -> None:
    healthy_pods(s, old, old.ready, 20 * DAY)
    pod = _refused(s, new, error, minutes_ago, 31)
    new.conditions = [_replica_failure(error.format(pod=pod), minutes_ago)]
    _rollout_status(
        s,
        new,
        old.ready,
        [
            _condition(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                20 * DAY,
            ),
            {
                **_replica_failure(error.format(pod=pod), minutes_ago),
                "lastUpdateTime": ts(minutes_ago),
            },
            _condition(
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{s.rs_name(new)}" has timed out progressing.',
                minutes_ago - 10,
            ),
        ],
    )


def rollout_pod_security() -> Scenario:
    s = Scenario(
        "rollout_stuck",
        "pod_security_restricted",
        "none",
        "payments-gw",
        containers=["payments-gw"],
        description="Revision 13 runs privileged; the namespace enforces PodSecurity "
        "restricted, so no new pod is admitted and the rollout times out.",
    )
    old = Revision(12, [web(f"{REG}/payments-gw:5.1.0")], 20 * DAY, replicas=3, ready=3)
    new_app = web(f"{REG}/payments-gw:5.2.0", securityContext={"privileged": True})
    new = Revision(13, [new_app], 35, replicas=1, created=0)
    s.revisions = [old, new]
    _admission_refused(
        s,
        old,
        new,
        'pods "{pod}" is forbidden: violates PodSecurity "restricted:latest": privileged '
        '(container "payments-gw" must not set securityContext.privileged=true), '
        'allowPrivilegeEscalation != false (container "payments-gw" must set '
        "securityContext.allowPrivilegeEscalation=false), unrestricted capabilities "
        '(container "payments-gw" must set securityContext.capabilities.drop=["ALL"]), '
        'runAsNonRoot != true (pod or container "payments-gw" must set '
        "securityContext.runAsNonRoot=true), seccompProfile (pod or container "
        '"payments-gw" must set securityContext.seccompProfile.type to "RuntimeDefault" or '
        '"Localhost")',
        35,
    )
    return s


def rollout_webhook_denied() -> Scenario:
    s = Scenario(
        "rollout_stuck",
        "webhook_denied",
        "none",
        "notifications",
        containers=["notifications"],
        description="Revision 4 dropped the team label; Gatekeeper's webhook denies the new "
        "pods and the rollout times out.",
    )
    old = Revision(3, [web(f"{REG}/notifications:2.0.1")], 20 * DAY, replicas=2, ready=2)
    new = Revision(4, [web(f"{REG}/notifications:2.1.0")], 28, replicas=1, created=0)
    s.revisions = [old, new]
    s.replicas = 2
    _admission_refused(
        s,
        old,
        new,
        'admission webhook "validation.gatekeeper.sh" denied the request: '
        '[require-team-label] you must provide labels: {{"team"}}',
        28,
    )
    return s


def rollout_webhook_unreachable() -> Scenario:
    s = Scenario(
        "rollout_stuck",
        "webhook_unreachable",
        "none",
        "inventory",
        containers=["inventory"],
        description="The sidecar-injector webhook is down and fails closed: no new pod can be "
        "created and the rollout times out.",
    )
    old = Revision(9, [web(f"{REG}/inventory:3.3.0")], 20 * DAY, replicas=2, ready=2)
    new = Revision(10, [web(f"{REG}/inventory:3.3.1")], 26, replicas=1, created=0)
    s.revisions = [old, new]
    s.replicas = 2
    _admission_refused(
        s,
        old,
        new,
        'Internal error occurred: failed calling webhook "namespace.sidecar-injector.istio.io": '
        'failed to call webhook: Post "https://istiod.istio-system.svc:443/inject?timeout=10s": '
        "dial tcp 10.96.12.34:443: connect: connection refused",
        26,
    )
    return s


# --- storage -----------------------------------------------------------------------------------


def _claim_volume(claim: str, name: str = "data") -> Obj:
    return {"name": name, "persistentVolumeClaim": {"claimName": claim}}


def _unscheduled(s: Scenario, rev: Revision, index: int, message: str, minutes_ago: float) -> None:
    name = s.pod_name(rev, index)
    s.pod(
        rev,
        index,
        [],
        phase="Pending",
        started_minutes_ago=minutes_ago,
        scheduled=False,
        conditions=[
            {
                "lastProbeTime": None,
                "lastTransitionTime": ts(minutes_ago),
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
        count=14,
        first_minutes_ago=minutes_ago,
        component="default-scheduler",
    )


def _creating(s: Scenario, rev: Revision, index: int, minutes_ago: float) -> str:
    s.pod(
        rev,
        index,
        [c_waiting(c, "ContainerCreating", image_id=False) for c in rev.containers],
        phase="Pending",
        started_minutes_ago=minutes_ago,
    )
    return s.pod_name(rev, index)


def _with_data(image: str, **extra: object) -> Obj:
    return web(image, volumeMounts=[{"mountPath": "/var/lib/data", "name": "data"}], **extra)


def storage_unbound_claim() -> Scenario:
    s = Scenario(
        "storage",
        "unbound_claim",
        "none",
        "ledger",
        containers=["ledger"],
        description="The pod's PersistentVolumeClaim is not bound (its StorageClass "
        "provisions nothing): the scheduler holds the pod.",
    )
    rev = Revision(
        1,
        [_with_data(f"{REG}/ledger:1.0.0")],
        25,
        replicas=1,
        pod_extra={"volumes": [_claim_volume("ledger-data")]},
    )
    s.revisions = [rev]
    s.replicas = 1
    _unscheduled(
        s,
        rev,
        0,
        "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
        25,
    )
    return s


def storage_missing_claim() -> Scenario:
    s = Scenario(
        "storage",
        "missing_claim",
        "none",
        "ledger-archiver",
        containers=["ledger-archiver"],
        description="The pod template names PersistentVolumeClaim data-ledger-0, which does not "
        "exist: the scheduler holds the pod.",
    )
    rev = Revision(
        6,
        [_with_data(f"{REG}/ledger-archiver:0.4.1")],
        12,
        replicas=1,
        pod_extra={"volumes": [_claim_volume("data-ledger-0")]},
    )
    s.revisions = [Revision(5, [_with_data(f"{REG}/ledger-archiver:0.4.0")], 30 * DAY), rev]
    s.replicas = 1
    _unscheduled(
        s,
        rev,
        0,
        '0/3 nodes are available: persistentvolumeclaim "data-ledger-0" not found. '
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
        12,
    )
    return s


def storage_nfs_mount_failed() -> Scenario:
    s = Scenario(
        "storage",
        "nfs_mount_failed",
        "none",
        "assets",
        containers=["assets"],
        description="The NFS server behind the shared volume does not answer: the kubelet "
        "cannot mount it and the pods stay ContainerCreating.",
    )
    app = web(
        f"{REG}/assets:2.3.0",
        volumeMounts=[{"mountPath": "/srv/assets", "name": "shared-assets", "readOnly": True}],
    )
    rev = Revision(
        7,
        [app],
        19,
        replicas=2,
        pod_extra={
            "volumes": [
                {
                    "name": "shared-assets",
                    "nfs": {"path": "/exports/assets", "server": "10.0.40.12"},
                }
            ]
        },
    )
    s.revisions = [rev]
    s.replicas = 2
    for i in range(2):
        name = _creating(s, rev, i, 19)
        s.event(
            "Pod",
            name,
            "FailedMount",
            'MountVolume.SetUp failed for volume "shared-assets" : mount failed: exit status 32\n'
            "Mounting command: mount\nMounting arguments: -t nfs 10.0.40.12:/exports/assets "
            f"/var/lib/kubelet/pods/{uid(name)}/volumes/kubernetes.io~nfs/shared-assets\n"
            "Output: mount.nfs: Connection timed out\n",
            2,
            count=9,
            first_minutes_ago=17,
            host=NODES[i],
        )
    return s


def storage_multi_attach() -> Scenario:
    s = Scenario(
        "storage",
        "multi_attach",
        "none",
        "wiki",
        containers=["wiki"],
        description="A rolling update of a Deployment with a ReadWriteOnce volume: the new pod, "
        "on another node, cannot attach the volume the old pod holds.",
    )
    volumes = {"volumes": [_claim_volume("wiki-data")]}
    old = Revision(
        3, [_with_data(f"{REG}/wiki:1.40.1")], 30 * DAY, replicas=1, ready=1, pod_extra=volumes
    )
    new = Revision(4, [_with_data(f"{REG}/wiki:1.41.0")], 16, replicas=1, pod_extra=volumes)
    s.revisions = [old, new]
    s.replicas = 1
    healthy_pods(s, old, 1, 30 * DAY)
    holder = s.pod_name(old, 0)
    name = _creating(s, new, 2, 16)
    s.event(
        "Pod",
        name,
        "FailedAttachVolume",
        'Multi-Attach error for volume "pvc-6f1b2c3d-9a8e-4f7b-b1c2-3d4e5f6a7b8c" Volume is '
        f"already used by pod(s) {holder}",
        15,
        count=1,
        component="attachdetach-controller",
    )
    s.event(
        "Pod",
        name,
        "FailedMount",
        "Unable to attach or mount volumes: unmounted volumes=[data], unattached "
        "volumes=[data kube-api-access-x2x7k]: timed out waiting for the condition",
        1,
        count=7,
        first_minutes_ago=14,
        host=NODES[2],
    )
    s.deployment_status = {
        "availableReplicas": 1,
        "readyReplicas": 1,
        "replicas": 2,
        "updatedReplicas": 1,
        "unavailableReplicas": 1,
    }
    return s


# --- node_failure ------------------------------------------------------------------------------


def node_lost() -> Scenario:
    s = Scenario(
        "node_failure",
        "node_lost",
        "none",
        "tax",
        containers=["tax"],
        description="The node stopped reporting; the pod's status is Unknown, reason NodeLost.",
    )
    app = web(f"{REG}/tax:2.0.0")
    rev = Revision(2, [app], 60 * DAY, replicas=1)
    s.revisions = [rev]
    s.replicas = 1
    status = c_running(app, 2 * DAY, ready=False)
    name = s.pod(rev, 0, [status], phase="Unknown", started_minutes_ago=2 * DAY)
    s.objects[-1]["status"]["reason"] = "NodeLost"
    s.objects[-1]["status"]["message"] = (
        f"Node {NODES[0]} which was running pod {name} is unresponsive"
    )
    return s


def _ready_false(pod: Obj, minutes_ago: float) -> None:
    """What MarkPodsNotReady does: Ready False, reason and message left as they were."""
    for condition in pod["status"]["conditions"]:
        if condition["type"] == "Ready":
            condition["status"] = "False"
            condition["lastTransitionTime"] = ts(minutes_ago)


def _node_not_ready_event(s: Scenario, pod: str, minutes_ago: float) -> None:
    s.event(
        "Pod", pod, "NodeNotReady", "Node is not ready", minutes_ago, component="node-controller"
    )


def node_not_ready() -> Scenario:
    s = Scenario(
        "node_failure",
        "node_not_ready",
        "none",
        "cart",
        containers=["cart"],
        description="The kubelet of one node stopped posting status; the node controller marked "
        "its pod not ready (the container status still says ready).",
    )
    app = web(f"{REG}/cart:7.2.0")
    rev = Revision(4, [app], 9 * DAY, replicas=3, ready=3)
    s.revisions = [rev]
    healthy_pods(s, rev, 3, 9 * DAY)
    pod = next(o for o in s.objects if o["metadata"]["name"] == s.pod_name(rev, 1))
    _ready_false(pod, 4)
    _node_not_ready_event(s, s.pod_name(rev, 1), 4)
    s.deployment_status = {
        "availableReplicas": 2,
        "readyReplicas": 2,
        "replicas": 3,
        "updatedReplicas": 3,
        "unavailableReplicas": 1,
    }
    return s


def node_taint_eviction_terminating() -> Scenario:
    s = Scenario(
        "node_failure",
        "taint_eviction_terminating",
        "none",
        "payments",
        containers=["payments"],
        description="The node became unreachable; after the 300s toleration the taint-eviction "
        "controller deleted the pod, which stays Terminating on the lost node.",
    )
    app = web(f"{REG}/payments:2.4.1")
    rev = Revision(6, [app], 11 * DAY, replicas=2, ready=2)
    s.revisions = [rev]
    s.replicas = 2
    healthy_pods(s, rev, 1, 11 * DAY)
    healthy_pods(s, rev, 1, 11 * DAY, offset=2)
    name = s.pod_name(rev, 2)
    pod = s.objects[-1]
    _ready_false(pod, 11)
    pod["metadata"]["deletionTimestamp"] = ts(5)
    pod["metadata"]["deletionGracePeriodSeconds"] = 30
    pod["status"]["conditions"].insert(
        0,
        {
            "lastProbeTime": None,
            "lastTransitionTime": ts(5),
            "message": "Taint manager: deleting due to NoExecute taint",
            "reason": "DeletionByTaintManager",
            "status": "True",
            "type": "DisruptionTarget",
        },
    )
    _node_not_ready_event(s, name, 11)
    s.event(
        "Pod",
        name,
        "TaintManagerEviction",
        f"Marking for deletion Pod shop/{name}",
        5,
        type_="Normal",
        component="taint-eviction-controller",
    )
    s.pod(rev, 4, [c_running(app, 4)], started_minutes_ago=5)
    s.deployment_status = {
        "availableReplicas": 2,
        "readyReplicas": 2,
        "replicas": 3,
        "updatedReplicas": 3,
    }
    return s


CASES = [
    evicted_memory_pressure,
    evicted_ephemeral_storage_limit,
    evicted_disk_pressure,
    evicted_rejected_under_pressure,
    healthy_old_eviction,
    quota_resourcequota_memory,
    quota_limitrange_max_memory,
    quota_must_specify_limits,
    quota_pod_count,
    rollout_pod_security,
    rollout_webhook_denied,
    rollout_webhook_unreachable,
    storage_unbound_claim,
    storage_missing_claim,
    storage_nfs_mount_failed,
    storage_multi_attach,
    node_lost,
    node_not_ready,
    node_taint_eviction_terminating,
]
