"""The rules, most specific first: the first one that recognises a failure names it.

Adding a failure class: write a module with a class implementing `Rule` and list it here.
"""

from __future__ import annotations

from selfheal.activities.analysis.config_error import ConfigError
from selfheal.activities.analysis.cpu_throttling import CpuThrottling
from selfheal.activities.analysis.crash_loop import CrashLoop
from selfheal.activities.analysis.dependency_failure import DependencyFailure
from selfheal.activities.analysis.evicted import Evicted
from selfheal.activities.analysis.image_pull import ImagePull
from selfheal.activities.analysis.job_failed import JobFailed
from selfheal.activities.analysis.node_failure import NodeFailure
from selfheal.activities.analysis.oom_killed import OomKilled
from selfheal.activities.analysis.overload import Overload
from selfheal.activities.analysis.probe_failure import ProbeFailure
from selfheal.activities.analysis.quota_exceeded import QuotaExceeded
from selfheal.activities.analysis.replica_shortage import ReplicaShortage
from selfheal.activities.analysis.rollout_stuck import RolloutStuck
from selfheal.activities.analysis.rule import Rule
from selfheal.activities.analysis.storage import Storage
from selfheal.activities.analysis.unschedulable import Unschedulable

RULES: list[Rule] = [
    # A container that never started explains everything downstream of it.
    ImagePull(),
    ConfigError(),
    # OOMKilled hides behind CrashLoopBackOff, so it is asked before the crash rule.
    OomKilled(),
    # An evicted pod's containers end killed (exit 137) like a crash, but the node did it.
    Evicted(),
    # A crash or unready pod whose own logs say it cannot reach a dependency is the
    # dependency's failure; scaling for "overload" would only add load to it.
    DependencyFailure(),
    # A Job that gave up, once neither its memory nor a dependency explains why: its pods'
    # failures end it (they are not restarted), so it is asked before probes and crashes.
    JobFailed(),
    # A container starved of CPU starts slowly, fails its probes and sheds load: more CPU,
    # not more replicas or a laxer probe. Only the metrics show it.
    CpuThrottling(),
    # Probes that fail because the app sheds load call for capacity, not a laxer probe.
    Overload(),
    # A liveness kill looks like a crash (exit 137/143) but the kubelet did it.
    ProbeFailure(),
    CrashLoop(),
    # A failed node explains its pods' state, and the volumes they cannot re-attach.
    NodeFailure(),
    # Pods waiting on volumes; the PVC scheduling failures before unschedulable.
    Storage(),
    Unschedulable(),
    # Pods never created: the namespace's quota or LimitRange refuses them.
    QuotaExceeded(),
    # A timed-out rollout is a pod-level failure's symptom when one is found above.
    RolloutStuck(),
    # Only once no pod-level failure explains missing capacity.
    ReplicaShortage(),
]
