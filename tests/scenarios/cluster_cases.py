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
    Revision,
    Scenario,
    c_running,
    healthy_pods,
    terminated,
    ts,
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


CASES = [
    evicted_memory_pressure,
    evicted_ephemeral_storage_limit,
    evicted_disk_pressure,
    evicted_rejected_under_pressure,
    healthy_old_eviction,
]
