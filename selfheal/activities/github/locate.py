"""Find the file in the manifest repository that defines a workload (a Deployment by default)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from github import UnknownObjectException
from github.Repository import Repository
from temporalio import activity
from temporalio.exceptions import ApplicationError

from selfheal.activities.github.errors import github_call
from selfheal.activities.manifests import holds_workload

CONVENTIONAL_PATHS = (
    "apps/{deployment}/{kind}.yaml",
    "{namespace}/{deployment}.yaml",
    "deploy/{deployment}.yaml",
    "k8s/{deployment}.yaml",
    "manifests/{namespace}/{deployment}.yaml",
)
MAX_FILES_SEARCHED = 300
ANNOTATION = "selfheal.dev/manifest"


@dataclass(frozen=True)
class Manifest:
    """A manifest file as it is on one branch."""

    path: str
    text: str
    sha: str


def read_file(repo: Repository, path: str, ref: str) -> Manifest | None:
    """Return a file's text on `ref`, or None when no file has that path."""
    with github_call(f"read {path}@{ref}", repo.full_name):
        try:
            found = repo.get_contents(path, ref=ref)
        except UnknownObjectException:
            return None
    if isinstance(found, list) or found.type != "file":
        return None
    return Manifest(path, found.decoded_content.decode(), found.sha)


def locate_manifest(
    repo: Repository,
    ref: str,
    namespace: str,
    deployment: str,
    annotated: str | None,
    kind: str = "Deployment",
) -> Manifest:
    """Return the manifest defining the `kind` (a Deployment by default) `namespace/deployment`
    on `ref`.

    The workload's `selfheal.dev/manifest` annotation wins when given; otherwise the
    conventional paths are tried, then the repository's YAML files are searched.
    Raises a non-retryable ManifestNotFound naming what was tried.
    """
    where = f"{repo.full_name}@{ref}"
    if annotated:
        found = read_file(repo, annotated.lstrip("/"), ref)
        if found is None:
            raise _not_found(
                f"{annotated} (named by annotation {ANNOTATION} on {namespace}/{deployment}) "
                f"not found in {where}"
            )
        if not holds_workload(found.text, namespace, deployment, kind):
            raise _not_found(
                f"{annotated} (named by annotation {ANNOTATION}) in {where} does not define "
                f"{kind} {namespace}/{deployment}"
            )
        return found
    tried = [
        p.format(namespace=namespace, deployment=deployment, kind=kind.lower())
        for p in CONVENTIONAL_PATHS
    ]
    for path in tried:
        found = read_file(repo, path, ref)
        if found is not None and holds_workload(found.text, namespace, deployment, kind):
            return found
    found, searched = _search(repo, ref, namespace, deployment, kind, skip=set(tried))
    if found is not None:
        return found
    raise _not_found(
        f"no manifest for {kind} {namespace}/{deployment} in {where}: tried "
        f"{', '.join(tried)} and searched {searched} other YAML files; set the annotation "
        f"{ANNOTATION} on the {kind} to the file's path"
    )


def _search(
    repo: Repository, ref: str, namespace: str, deployment: str, kind: str, skip: set[str]
) -> tuple[Manifest | None, int]:
    """Return the first YAML file defining the workload, and how many files were read."""
    with github_call(f"list the files of {ref}", repo.full_name):
        tree = repo.get_git_tree(ref, recursive=True).tree
    candidates = [
        entry
        for entry in tree
        if entry.type == "blob"
        and entry.path.endswith((".yaml", ".yml"))
        and entry.path not in skip
    ]
    # Files named after the workload are the likeliest; read them first.
    candidates.sort(key=lambda entry: deployment not in entry.path)
    searched = 0
    for entry in candidates[:MAX_FILES_SEARCHED]:
        searched += 1
        activity.heartbeat(entry.path)
        with github_call(f"read {entry.path}@{ref}", repo.full_name):
            blob = repo.get_git_blob(entry.sha)
        text = _decode(blob.content, blob.encoding)
        if deployment in text and holds_workload(text, namespace, deployment, kind):
            manifest = read_file(repo, entry.path, ref)
            if manifest is not None:
                return manifest, searched
    return None, searched


def _decode(content: str, encoding: str) -> str:
    data = base64.b64decode(content) if encoding == "base64" else content.encode()
    return data.decode(errors="replace")


def _not_found(message: str) -> ApplicationError:
    return ApplicationError(message, type="ManifestNotFound", non_retryable=True)
