"""What the on-call person does on the sandbox after an escalation: revert in git, resolve."""

from __future__ import annotations

from github.Repository import Repository

from tests.e2e.stack import RunningStack


def manifest_path(deployment: str) -> str:
    """Return where the demo repository keeps `deployment`'s manifest."""
    return f"apps/{deployment}/deployment.yaml"


def read_manifest(repo: Repository, deployment: str, ref: str = "main") -> str:
    """Return the manifest's text on `ref`."""
    found = repo.get_contents(manifest_path(deployment), ref=ref)
    assert not isinstance(found, list)
    return found.decoded_content.decode()


def remove_manifest(repo: Repository, deployment: str, why: str) -> None:
    """Delete the manifest from main, as when a workload moves to another repository."""
    found = repo.get_contents(manifest_path(deployment))
    assert not isinstance(found, list)
    repo.delete_file(found.path, why, found.sha)


def restore_manifest(repo: Repository, deployment: str, text: str, why: str) -> None:
    """Put `text` back as the manifest on main (creating the file if it was removed)."""
    path = manifest_path(deployment)
    found = repo.get_contents(path) if path in _paths(repo) else None
    if found is None:
        repo.create_file(path, why, text)
        return
    assert not isinstance(found, list)
    if found.decoded_content.decode() != text:
        repo.update_file(path, why, text, found.sha)


def revert_and_resolve(
    stack: RunningStack, repo: Repository, incident_id: str, deployment: str, original: str
) -> None:
    """Revert the breaking change in git and close the incident with `selfheal resolve`."""
    restore_manifest(repo, deployment, original, f"revert the change behind {incident_id}")
    done = stack.cli("resolve", incident_id, "--by", "e2e-oncall", "--note", "reverted in git")
    assert done.returncode == 0, done.stderr


def _paths(repo: Repository) -> set[str]:
    return {entry.path for entry in repo.get_git_tree("main", recursive=True).tree}
