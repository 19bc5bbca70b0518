"""A Kubernetes API stand-in with simulated controllers and kubelet (`selfheal up`)."""

from selfheal_lab.sandbox.kube.demo import DEMO_NAMESPACE, baseline_manifests, demo_secrets
from selfheal_lab.sandbox.kube.kubeconfig import write_kubeconfig
from selfheal_lab.sandbox.kube.kubelet import STATIC_ANNOTATION, Timing
from selfheal_lab.sandbox.kube.population import Population, create_pods
from selfheal_lab.sandbox.kube.sandbox import KubeSandbox
from selfheal_lab.sandbox.kube.snapshot import LoadedSnapshot, load_snapshot

__all__ = [
    "DEMO_NAMESPACE",
    "STATIC_ANNOTATION",
    "KubeSandbox",
    "LoadedSnapshot",
    "Population",
    "Timing",
    "baseline_manifests",
    "create_pods",
    "demo_secrets",
    "load_snapshot",
    "write_kubeconfig",
]
