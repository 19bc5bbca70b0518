"""The demo manifest repository the GitHub stand-in starts with.

It holds the same files the sandbox cluster is seeded from (`kube.demo.baseline_manifests`),
so the GitOps sync applies exactly what the cluster already runs, plus a README.
"""

from __future__ import annotations

from selfheal_lab.sandbox.kube.demo import baseline_manifests

DEMO_REPO = "acme/infra"

README = """\
# infra

Manifests of the demo shop (namespace `demo`). Argo CD applies `main`; change it through
pull requests.
"""


def demo_manifests() -> dict[str, str]:
    """Return {path: text} for the demo repository: the cluster's baseline plus a README."""
    return {"README.md": README, **baseline_manifests()}
