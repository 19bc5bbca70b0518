"""A repository's git history held in memory: blobs, trees, commits and refs, hashed as git does."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

FILE_MODE = "100644"
TREE_MODE = "040000"


class GitError(Exception):
    """A history operation that git itself would refuse; `kind` says which refusal."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class Signature:
    """Who wrote or committed a commit, and when."""

    name: str
    email: str
    date: datetime


@dataclass(frozen=True)
class Commit:
    """One commit: the tree it records, its parents and its message."""

    sha: str
    tree: str
    parents: tuple[str, ...]
    message: str
    author: Signature
    committer: Signature


@dataclass(frozen=True)
class TreeEntry:
    """One name inside a tree: a file (blob) or a directory (tree)."""

    name: str
    mode: str
    type: str
    sha: str


def _object_sha(kind: str, payload: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(payload)}\0".encode() + payload).hexdigest()


def signature(name: str, email: str | None = None, date: datetime | None = None) -> Signature:
    """Return a signature for `name`, dated now unless `date` is given."""
    return Signature(
        name=name,
        email=email or f"{name}@users.noreply.sandbox",
        date=(date or datetime.now(UTC)).replace(microsecond=0),
    )


class History:
    """All git objects and refs of one repository. Thread-safe; object ids are git's own."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.blobs: dict[str, bytes] = {}
        self.trees: dict[str, tuple[TreeEntry, ...]] = {}
        self.commits: dict[str, Commit] = {}
        self.refs: dict[str, str] = {}

    # objects

    def write_blob(self, data: bytes) -> str:
        """Store file content and return its blob sha."""
        sha = _object_sha("blob", data)
        with self._lock:
            self.blobs[sha] = data
        return sha

    def write_tree(self, files: dict[str, str]) -> str:
        """Store nested trees for a flat {path: blob sha} map and return the root tree sha."""
        children: dict[str, dict[str, str]] = {}
        entries: list[TreeEntry] = []
        for path, blob_sha in files.items():
            head, sep, rest = path.partition("/")
            if sep:
                children.setdefault(head, {})[rest] = blob_sha
            else:
                entries.append(TreeEntry(head, FILE_MODE, "blob", blob_sha))
        for name, sub in children.items():
            entries.append(TreeEntry(name, TREE_MODE, "tree", self.write_tree(sub)))
        # git orders a directory as if its name ended in "/".
        entries.sort(key=lambda e: e.name + ("/" if e.type == "tree" else ""))
        payload = b"".join(
            f"{e.mode.lstrip('0')} {e.name}\0".encode() + bytes.fromhex(e.sha) for e in entries
        )
        sha = _object_sha("tree", payload)
        with self._lock:
            self.trees[sha] = tuple(entries)
        return sha

    def write_commit(
        self,
        tree: str,
        parents: list[str],
        message: str,
        author: Signature,
        committer: Signature | None = None,
    ) -> str:
        """Store a commit of `tree` on top of `parents` and return its sha."""
        committer = committer or author
        with self._lock:
            if tree not in self.trees:
                raise GitError("unknown", f"tree {tree} does not exist")
            for parent in parents:
                if parent not in self.commits:
                    raise GitError("unknown", f"parent commit {parent} does not exist")
        lines = [f"tree {tree}", *(f"parent {p}" for p in parents)]
        for role, sig in (("author", author), ("committer", committer)):
            lines.append(f"{role} {sig.name} <{sig.email}> {int(sig.date.timestamp())} +0000")
        payload = ("\n".join(lines) + "\n\n" + message).encode()
        sha = _object_sha("commit", payload)
        with self._lock:
            self.commits[sha] = Commit(sha, tree, tuple(parents), message, author, committer)
        return sha

    def files(self, tree_sha: str, prefix: str = "") -> dict[str, str]:
        """Return the flat {path: blob sha} map of a tree."""
        with self._lock:
            entries = self.trees[tree_sha]
        out: dict[str, str] = {}
        for entry in entries:
            path = prefix + entry.name
            if entry.type == "tree":
                out.update(self.files(entry.sha, path + "/"))
            else:
                out[path] = entry.sha
        return out

    def walk(self, tree_sha: str, prefix: str = "") -> list[tuple[str, TreeEntry]]:
        """Return every (path, entry) below a tree, directories included, parents first."""
        with self._lock:
            entries = self.trees[tree_sha]
        out: list[tuple[str, TreeEntry]] = []
        for entry in entries:
            out.append((prefix + entry.name, entry))
            if entry.type == "tree":
                out.extend(self.walk(entry.sha, prefix + entry.name + "/"))
        return out

    def files_at(self, commit_sha: str) -> dict[str, str]:
        """Return the flat {path: blob sha} map recorded by a commit."""
        return self.files(self.commit(commit_sha).tree)

    def read(self, commit_sha: str, path: str) -> bytes | None:
        """Return a file's content at a commit, or None when the path holds no file."""
        blob = self.files_at(commit_sha).get(path)
        return None if blob is None else self.blobs[blob]

    def commit(self, sha: str) -> Commit:
        """Return a commit by full sha, or raise GitError('unknown')."""
        with self._lock:
            found = self.commits.get(sha)
        if found is None:
            raise GitError("unknown", f"No commit found for SHA: {sha}")
        return found

    # refs

    def branches(self) -> dict[str, str]:
        """Return {branch name: commit sha} for every branch."""
        with self._lock:
            return {
                ref.removeprefix("refs/heads/"): sha
                for ref, sha in sorted(self.refs.items())
                if ref.startswith("refs/heads/")
            }

    def branch_head(self, branch: str) -> str | None:
        """Return the commit a branch points at, or None when it does not exist."""
        with self._lock:
            return self.refs.get(f"refs/heads/{branch}")

    def resolve(self, rev: str) -> str:
        """Return the commit sha named by a branch, a ref, a full sha or a short sha."""
        with self._lock:
            for ref in (rev, f"refs/{rev}", f"refs/heads/{rev}", f"refs/tags/{rev}"):
                if ref in self.refs:
                    return self.refs[ref]
            if rev in self.commits:
                return rev
            if len(rev) >= 7:
                matches = [sha for sha in self.commits if sha.startswith(rev)]
                if len(matches) == 1:
                    return matches[0]
        raise GitError("unknown", f"No commit found for the ref {rev}")

    def set_ref(self, ref: str, sha: str, *, create: bool = False, force: bool = True) -> None:
        """Point `ref` at a commit; refuse a create over an existing ref or a non-fast-forward."""
        self.commit(sha)
        with self._lock:
            current = self.refs.get(ref)
            if create and current is not None:
                raise GitError("exists", "Reference already exists")
            if not create and current is None:
                raise GitError("unknown", "Reference does not exist")
            if current is not None and not force and not self.is_ancestor(current, sha):
                raise GitError("not_fast_forward", "Update is not a fast forward")
            self.refs[ref] = sha

    def delete_ref(self, ref: str) -> None:
        """Remove a ref, or raise GitError('unknown') when there is none."""
        with self._lock:
            if self.refs.pop(ref, None) is None:
                raise GitError("unknown", "Reference does not exist")

    # ancestry

    def ancestors(self, sha: str) -> list[str]:
        """Return `sha` and every commit reachable from it, nearest first."""
        seen: list[str] = []
        queue = [sha]
        while queue:
            current = queue.pop(0)
            if current in seen:
                continue
            seen.append(current)
            queue.extend(self.commit(current).parents)
        return seen

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Tell whether `ancestor` is reachable from `descendant`."""
        return ancestor in self.ancestors(descendant)

    def merge_base(self, a: str, b: str) -> str | None:
        """Return the nearest commit both `a` and `b` descend from."""
        reachable = set(self.ancestors(b))
        return next((sha for sha in self.ancestors(a) if sha in reachable), None)

    def commits_between(self, base: str, head: str) -> list[Commit]:
        """Return the commits reachable from `head` but not from `base`, oldest first."""
        excluded = set(self.ancestors(base))
        return [self.commit(sha) for sha in reversed(self.ancestors(head)) if sha not in excluded]

    def changes(self, old: str | None, new: str) -> dict[str, str | None]:
        """Return {path: new blob sha, or None if deleted} for files differing between commits."""
        before = {} if old is None else self.files_at(old)
        after = self.files_at(new)
        changed: dict[str, str | None] = {
            path: blob for path, blob in after.items() if before.get(path) != blob
        }
        changed.update({path: None for path in before if path not in after})
        return dict(sorted(changed.items()))

    def changed_files(self, old: str | None, new: str) -> dict[str, bytes | None]:
        """Return {path: new content, or None if deleted} for files differing between commits."""
        return {
            path: None if blob is None else self.blobs[blob]
            for path, blob in self.changes(old, new).items()
        }

    # higher-level operations

    def commit_files(
        self,
        branch: str,
        updates: dict[str, bytes | None],
        message: str,
        author: Signature,
    ) -> str:
        """Commit file writes (None deletes) on top of a branch, advance it, return the sha."""
        with self._lock:
            parent = self.branch_head(branch)
            if parent is None:
                raise GitError("unknown", f"Branch {branch} not found")
            files = self.files_at(parent)
            for path, data in updates.items():
                if data is None:
                    files.pop(path, None)
                else:
                    files[path] = self.write_blob(data)
            sha = self.write_commit(self.write_tree(files), [parent], message, author)
            self.refs[f"refs/heads/{branch}"] = sha
            return sha

    def conflicts(self, base: str, head: str) -> list[str]:
        """Return the paths that both sides changed differently since they diverged."""
        fork = self.merge_base(base, head)
        ours = self.changes(fork, base)
        theirs = self.changes(fork, head)
        return sorted(p for p in ours.keys() & theirs.keys() if ours[p] != theirs[p])

    def squash(self, base_branch: str, head: str, message: str, author: Signature) -> str:
        """Apply `head`'s changes as one commit on `base_branch`, advance it, return the sha."""
        with self._lock:
            base = self.branch_head(base_branch)
            if base is None:
                raise GitError("unknown", f"Branch {base_branch} not found")
            if self.conflicts(base, head):
                raise GitError("conflict", "Merge conflict")
            files = self.files_at(base)
            for path, blob in self.changes(self.merge_base(base, head), head).items():
                if blob is None:
                    files.pop(path, None)
                else:
                    files[path] = blob
            sha = self.write_commit(self.write_tree(files), [base], message, author)
            self.refs[f"refs/heads/{base_branch}"] = sha
            return sha


def seeded_history(files: dict[str, str], branch: str = "main", author: str = "sandbox") -> History:
    """Return a history whose `branch` holds one commit with `files` ({path: text})."""
    history = History()
    tree = history.write_tree({p: history.write_blob(t.encode()) for p, t in files.items()})
    sha = history.write_commit(tree, [], "Initial commit", signature(author))
    history.refs[f"refs/heads/{branch}"] = sha
    return history
