"""Whether a StatefulSet's or DaemonSet's rollout is done, judged as `kubectl rollout status`
judges it (kubectl's StatefulSetStatusViewer and DaemonSetStatusViewer), in its words; and
a CronJob's, which has none (its next run uses the template as it is)."""

from __future__ import annotations

from selfheal.activities.kubernetes.rollout_reading import RolloutStatus
from selfheal.kube_objects import Obj, name_of

ONLY_ROLLING_UPDATE = "rollout status is only available for RollingUpdate strategy type"


def statefulset_rollout_status(sts: Obj) -> RolloutStatus:
    """A StatefulSet's rollout: every replica ready, then `updatedReplicas` up to the
    partition (the apiserver sets `rollingUpdate.partition: 0` by default), else
    `currentRevision` caught up with `updateRevision`."""
    metadata, spec = sts.get("metadata") or {}, sts.get("spec") or {}
    status = sts.get("status") or {}
    replicas = spec.get("replicas")
    desired = int(replicas if replicas is not None else 1)
    ready = int(status.get("readyReplicas") or 0)
    updated = int(status.get("updatedReplicas") or 0)
    strategy = spec.get("updateStrategy") or {}

    def reading(message: str, complete: bool = False, failed: bool = False) -> RolloutStatus:
        return RolloutStatus(complete, failed, message, desired, ready, None)

    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return reading(ONLY_ROLLING_UPDATE, failed=True)
    observed = int(status.get("observedGeneration") or 0)
    if observed == 0 or int(metadata.get("generation") or 0) > observed:
        return reading("Waiting for statefulset spec update to be observed...")
    if replicas is not None and ready < desired:
        return reading(f"Waiting for {desired - ready} pods to be ready...")
    rolling = strategy.get("rollingUpdate")
    if rolling is not None:
        partition = rolling.get("partition")
        if replicas is not None and partition is not None and updated < desired - int(partition):
            return reading(
                "Waiting for partitioned roll out to finish: "
                f"{updated} out of {desired - int(partition)} new pods have been updated..."
            )
        return reading(
            f"partitioned roll out complete: {updated} new pods have been updated...",
            complete=True,
        )
    current, update = status.get("currentRevision", ""), status.get("updateRevision", "")
    if update != current:
        return reading(
            f"waiting for statefulset rolling update to complete {updated} pods at revision "
            f"{update}..."
        )
    return reading(
        f"statefulset rolling update complete {int(status.get('currentReplicas') or 0)} pods "
        f"at revision {current}...",
        complete=True,
    )


def daemonset_rollout_status(daemon: Obj) -> RolloutStatus:
    """A DaemonSet's rollout: `updatedNumberScheduled`, then `numberAvailable`, up to
    `desiredNumberScheduled`."""
    metadata, spec = daemon.get("metadata") or {}, daemon.get("spec") or {}
    status = daemon.get("status") or {}
    name = metadata.get("name", "")
    desired = int(status.get("desiredNumberScheduled") or 0)
    updated = int(status.get("updatedNumberScheduled") or 0)
    available = int(status.get("numberAvailable") or 0)
    ready = int(status.get("numberReady") or 0)

    def reading(message: str, complete: bool = False, failed: bool = False) -> RolloutStatus:
        return RolloutStatus(complete, failed, message, desired, ready, None)

    if (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") != "RollingUpdate":
        return reading(ONLY_ROLLING_UPDATE, failed=True)
    if int(metadata.get("generation") or 0) > int(status.get("observedGeneration") or 0):
        return reading("Waiting for daemon set spec update to be observed...")
    if updated < desired:
        return reading(
            f'Waiting for daemon set "{name}" rollout to finish: '
            f"{updated} out of {desired} new pods have been updated..."
        )
    if available < desired:
        return reading(
            f'Waiting for daemon set "{name}" rollout to finish: '
            f"{available} of {desired} updated pods are available..."
        )
    return reading(f'daemon set "{name}" successfully rolled out', complete=True)


def cronjob_rollout_status(cron: Obj) -> RolloutStatus:
    """Complete at once: the next Job is made from the template as it is now; failed when
    the CronJob is suspended, since no run would use the fix."""
    name = name_of(cron)
    spec, status = cron.get("spec") or {}, cron.get("status") or {}
    if spec.get("suspend"):
        return RolloutStatus(
            False, True, f'cronjob "{name}" is suspended: no run uses the fix', 0, 0, None
        )
    last = status.get("lastScheduleTime") or "never"
    return RolloutStatus(
        True,
        False,
        f'cronjob "{name}" runs the fixed job template from its next run '
        f"(schedule {spec.get('schedule', '?')!r}, last scheduled {last})",
        0,
        0,
        None,
    )
