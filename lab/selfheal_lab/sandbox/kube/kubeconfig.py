"""A kubeconfig file that points kubectl and the kubernetes client at the stand-in."""

from __future__ import annotations

from pathlib import Path

import yaml

CONTEXT = "selfheal-sandbox"


def kubeconfig_text(server_url: str, namespace: str = "demo", token: str = "sandbox") -> str:
    """Return kubeconfig YAML for `server_url` with a dummy bearer token."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {"server": server_url}}],
        "users": [{"name": CONTEXT, "user": {"token": token}}],
        "contexts": [
            {
                "name": CONTEXT,
                "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": namespace},
            }
        ],
        "current-context": CONTEXT,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)


def write_kubeconfig(path: str | Path, server_url: str, namespace: str = "demo") -> Path:
    """Write a kubeconfig for `server_url` to `path` (parents created) and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(kubeconfig_text(server_url, namespace))
    return target
