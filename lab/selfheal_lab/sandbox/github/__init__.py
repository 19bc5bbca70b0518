"""A GitHub REST stand-in for PyGithub: an in-memory repository, pull requests, signed webhooks."""

from selfheal_lab.sandbox.github.faults import Faults
from selfheal_lab.sandbox.github.sandbox import GitHubSandbox
from selfheal_lab.sandbox.github.seed import DEMO_REPO, demo_manifests
from selfheal_lab.sandbox.github.webhooks import Delivery, signature_256

__all__ = ["DEMO_REPO", "Delivery", "Faults", "GitHubSandbox", "demo_manifests", "signature_256"]
