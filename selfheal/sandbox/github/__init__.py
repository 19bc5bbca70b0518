"""A GitHub REST stand-in for PyGithub: an in-memory repository, pull requests, signed webhooks."""

from selfheal.sandbox.github.faults import Faults
from selfheal.sandbox.github.sandbox import GitHubSandbox
from selfheal.sandbox.github.seed import DEMO_REPO, demo_manifests
from selfheal.sandbox.github.webhooks import Delivery, signature_256

__all__ = ["DEMO_REPO", "Delivery", "Faults", "GitHubSandbox", "demo_manifests", "signature_256"]
