"""What the on-call person does on the sandbox after an escalation: revert in git, resolve."""

from __future__ import annotations

from github.Repository import Repository

from tests.e2e.stack import RunningStack


def manifest_path(deployment: str, kind: str = "Deployment") -> str:
    """Return where the demo repository keeps the manifest of workload `deployment`."""
    return f"apps/{deployment}/{kind.lower()}.yaml"


def read_manifest(
    repo: Repository, deployment: str, ref: str = "main", kind: str = "Deployment"
) -> str:
    """Return the manifest's text on `ref`."""
    found = repo.get_contents(manifest_path(deployment, kind), ref=ref)
    assert not isinstance(found, list)
    return found.decoded_content.decode()


def remove_manifest(repo: Repository, deployment: str, why: str) -> None:
    """Delete the manifest from main, as when a workload moves to another repository."""
    found = repo.get_contents(manifest_path(deployment))
    assert not isinstance(found, list)
    repo.delete_file(found.path, why, found.sha)


def restore_manifest(
    repo: Repository, deployment: str, text: str, why: str, kind: str = "Deployment"
) -> None:
    """Put `text` back as the manifest on main (creating the file if it was removed)."""
    path = manifest_path(deployment, kind)
    found = repo.get_contents(path) if path in _paths(repo) else None
    if found is None:
        repo.create_file(path, why, text)
        return
    assert not isinstance(found, list)
    if found.decoded_content.decode() != text:
        repo.update_file(path, why, text, found.sha)


def revert_and_resolve(
    stack: RunningStack,
    repo: Repository,
    incident_id: str,
    deployment: str,
    original: str,
    kind: str = "Deployment",
) -> None:
    """Revert the breaking change in git and close the incident with `selfheal resolve`."""
    why = f"revert the change behind {incident_id}"
    restore_manifest(repo, deployment, original, why, kind)
    done = stack.cli("resolve", incident_id, "--by", "e2e-oncall", "--note", "reverted in git")
    assert done.returncode == 0, done.stderr


def _paths(repo: Repository) -> set[str]:
    return {entry.path for entry in repo.get_git_tree("main", recursive=True).tree}
