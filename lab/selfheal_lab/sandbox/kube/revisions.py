"""ControllerRevisions: the pod-template history StatefulSets and DaemonSets keep.

One revision per distinct template, named `<owner>-<hash>`, numbered in the order the
templates were used; going back to an older template renumbers its revision as the newest,
as the real controllers do on a rollback.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from selfheal_lab.sandbox.kube.controllers import controlled_by, owner_ref, template_hash
from selfheal_lab.sandbox.kube.errors import ApiError
from selfheal_lab.sandbox.kube.resources import CONTROLLER_REVISIONS
from selfheal_lab.sandbox.kube.store import Obj, Store

HASH_LABEL = "controller.kubernetes.io/hash"
POD_REVISION_LABEL = "controller-revision-hash"


def _data(owner: Obj) -> dict[str, Any]:
    template = copy.deepcopy(owner["spec"].get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def _template_of(revision: Obj) -> Any:
    template = copy.deepcopy(((revision.get("data") or {}).get("spec") or {}).get("template"))
    if isinstance(template, dict):
        template.pop("$patch", None)
    return template


def owned_revisions(store: Store, owner: Obj) -> list[Obj]:
    """Return the owner's ControllerRevisions, oldest revision first."""
    namespace = owner["metadata"]["namespace"]
    found = [r for r in store.peek(CONTROLLER_REVISIONS, namespace) if controlled_by(r, owner)]
    return sorted(found, key=lambda r: int(r.get("revision", 0)))


def current_revision(store: Store, owner: Obj, revisions: list[Obj]) -> Obj:
    """Return the revision of the owner's template, creating or renumbering it as needed."""
    template = owner["spec"].get("template") or {}
    top = max((int(r.get("revision", 0)) for r in revisions), default=0)
    match = next((r for r in revisions if _template_of(r) == template), None)
    meta = owner["metadata"]
    if match is not None:
        if int(match.get("revision", 0)) == top:
            return match

        def renumber(obj: Obj) -> None:
            obj["revision"] = top + 1

        rmeta = match["metadata"]
        return (
            store.mutate(CONTROLLER_REVISIONS, meta["namespace"], rmeta["name"], renumber) or match
        )
    digest = template_hash(template)
    labels = dict(((owner["spec"].get("selector") or {}).get("matchLabels")) or {})
    labels[HASH_LABEL] = digest
    revision: Obj = {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": f"{meta['name']}-{digest}",
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [owner_ref(owner)],
        },
        "data": _data(owner),
        "revision": top + 1,
    }
    try:
        return store.create(CONTROLLER_REVISIONS, meta["namespace"], revision)
    except ApiError:  # a hash collision with an older template: keep the stored one
        return store.get(CONTROLLER_REVISIONS, meta["namespace"], revision["metadata"]["name"])


def prune(store: Store, owner: Obj, revisions: list[Obj], keep: set[str]) -> None:
    """Delete the oldest revisions beyond revisionHistoryLimit, never one named in `keep`."""
    limit = int(owner["spec"].get("revisionHistoryLimit", 10))
    idle = [r for r in revisions if r["metadata"]["name"] not in keep]
    for revision in idle[: max(len(idle) - limit, 0)]:
        with contextlib.suppress(ApiError):
            store.delete(
                CONTROLLER_REVISIONS, owner["metadata"]["namespace"], revision["metadata"]["name"]
            )
