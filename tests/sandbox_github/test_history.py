"""The in-memory history hashes objects exactly as git does, so shas look and behave real."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from selfheal_lab.sandbox.github.history import GitError, History, seeded_history, signature


def test_commit_and_tree_shas_match_git(tmp_path: Path) -> None:
    files = {"apps/web/deployment.yaml": "replicas: 2\n", "README.md": "# infra\n"}
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    env = {
        "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
        "GIT_AUTHOR_NAME": "sandbox",
        "GIT_AUTHOR_EMAIL": "sandbox@users.noreply.sandbox",
        "GIT_COMMITTER_NAME": "sandbox",
        "GIT_COMMITTER_EMAIL": "sandbox@users.noreply.sandbox",
        "HOME": str(tmp_path),
    }

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=tmp_path, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()

    git("init", "-q", ".")
    git("add", ".")
    git("commit", "-q", "-m", "Initial commit")

    history = History()
    tree = history.write_tree({p: history.write_blob(t.encode()) for p, t in files.items()})
    when = datetime(2024, 1, 1, tzinfo=UTC)
    sha = history.write_commit(tree, [], "Initial commit\n", signature("sandbox", date=when))
    assert (sha, tree) == (git("rev-parse", "HEAD"), git("rev-parse", "HEAD^{tree}"))


def test_squash_applies_only_the_branch_changes() -> None:
    history = seeded_history({"a.yaml": "a: 1\n", "b.yaml": "b: 1\n"})
    history.set_ref("refs/heads/fix", history.resolve("main"), create=True)
    history.commit_files("fix", {"a.yaml": b"a: 2\n"}, "fix a", signature("bot"))
    history.commit_files("main", {"b.yaml": b"b: 2\n"}, "other change", signature("human"))

    merged = history.squash("main", history.resolve("fix"), "fix a (#1)", signature("bot"))

    assert history.read(merged, "a.yaml") == b"a: 2\n"
    assert history.read(merged, "b.yaml") == b"b: 2\n"
    assert len(history.commit(merged).parents) == 1


def test_squash_refuses_conflicting_changes() -> None:
    history = seeded_history({"a.yaml": "a: 1\n"})
    history.set_ref("refs/heads/fix", history.resolve("main"), create=True)
    history.commit_files("fix", {"a.yaml": b"a: 2\n"}, "fix", signature("bot"))
    history.commit_files("main", {"a.yaml": b"a: 3\n"}, "race", signature("human"))
    try:
        history.squash("main", history.resolve("fix"), "fix", signature("bot"))
    except GitError as exc:
        assert exc.kind == "conflict"
    else:
        raise AssertionError("a conflicting squash must be refused")
    assert history.read(history.resolve("main"), "a.yaml") == b"a: 3\n"
