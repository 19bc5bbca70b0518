"""Opening the fix pull request through real PyGithub against the GitHub stand-in over HTTP."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from selfheal.activities.github.activities import GitHubActivities
from selfheal_lab.sandbox.github import GitHubSandbox, demo_manifests
from tests.github.conftest import INCIDENT, REPO, fix_request, github_settings
from tests.github.samples import CHECKOUT, SERVICE, memory_limit

MANIFEST = "apps/checkout/deployment.yaml"
BRANCH = f"selfheal/{INCIDENT}"


def selfheal_branches(sandbox: GitHubSandbox) -> list[str]:
    return sorted(b for b in sandbox.history.branches() if b.startswith("selfheal/"))


def commits_ahead(sandbox: GitHubSandbox, branch: str) -> int:
    history = sandbox.history
    return len(history.commits_between(history.resolve("main"), history.resolve(branch)))


def test_pull_request_raises_only_the_memory_limit(
    sandbox: GitHubSandbox, activities: GitHubActivities, env: ActivityEnvironment
) -> None:
    info = env.run(activities.open_pull_request, fix_request())

    assert info.branch == BRANCH
    assert info.manifest_path == MANIFEST
    proposed = sandbox.read_file(MANIFEST, ref=BRANCH)
    assert proposed is not None
    before, after = CHECKOUT.splitlines(keepends=True), proposed.splitlines(keepends=True)
    assert len(before) == len(after)
    assert [(a, b) for a, b in zip(before, after, strict=True) if a != b] == [
        (
            "              memory: 256Mi  # sized from last quarter's load test\n",
            "              memory: 512Mi  # sized from last quarter's load test\n",
        )
    ]
    assert sandbox.read_file(MANIFEST) == CHECKOUT, "main is untouched until the merge"

    [pull] = sandbox.pulls()
    assert (pull.number, pull.head, pull.base, pull.state) == (info.number, BRANCH, "main", "open")
    assert info.url.endswith(f"/{REPO}/pull/{pull.number}")
    assert set(pull.labels) == {"selfheal", "risk:low"}
    for expected in (
        "container checkout was OOMKilled 4 times in 10 minutes",
        "oom_killed",
        "92%",
        "lastState.terminated.reason=OOMKilled exitCode=137",
        "Risk: **low**",
        "raise the memory limit from 256Mi to 512Mi",
        "+              memory: 512Mi  # sized from last quarter's load test",
        f"selfheal approve {INCIDENT} --by NAME",
        f"selfheal reject {INCIDENT} --by NAME --reason REASON",
        f"http://127.0.0.1:8233/namespaces/default/workflows/{INCIDENT}",
        "OPS-7",
    ):
        assert expected in pull.body
    assert info.diff in pull.body


def test_demo_repository_oom_fix_is_a_one_line_diff() -> None:
    with GitHubSandbox(REPO) as sandbox:
        activities = GitHubActivities(github_settings(sandbox))
        info = ActivityEnvironment().run(activities.open_pull_request, fix_request())

        original = demo_manifests()[info.manifest_path]
        proposed = sandbox.read_file(info.manifest_path, ref=info.branch)
    assert proposed is not None
    removed = [line for line in info.diff.splitlines() if line.startswith("-")][1:]
    added = [line for line in info.diff.splitlines() if line.startswith("+")][1:]
    assert len(removed) == len(added) == 1
    assert "memory:" in removed[0] and "memory: 512Mi" in added[0]
    assert len(original.splitlines()) == len(proposed.splitlines())


def test_running_twice_makes_one_branch_one_commit_one_pull_request(
    sandbox: GitHubSandbox, activities: GitHubActivities, env: ActivityEnvironment
) -> None:
    first = env.run(activities.open_pull_request, fix_request())
    second = env.run(activities.open_pull_request, fix_request())

    assert second == first
    assert len(sandbox.pulls()) == 1
    assert selfheal_branches(sandbox) == [BRANCH]
    assert commits_ahead(sandbox, BRANCH) == 1


def test_retry_after_a_failure_midway_finds_its_branch_and_commit(
    sandbox: GitHubSandbox, activities: GitHubActivities, env: ActivityEnvironment
) -> None:
    sandbox.faults.set(502, path_contains=f"/repos/{REPO}/pulls", methods={"POST"}, count=1)
    with pytest.raises(ApplicationError) as failed:
        env.run(activities.open_pull_request, fix_request())
    assert not failed.value.non_retryable
    assert sandbox.pulls() == []
    assert commits_ahead(sandbox, BRANCH) == 1

    info = env.run(activities.open_pull_request, fix_request())

    assert [p.number for p in sandbox.pulls()] == [info.number]
    assert commits_ahead(sandbox, BRANCH) == 1


def test_a_later_attempt_gets_its_own_branch(
    sandbox: GitHubSandbox, activities: GitHubActivities, env: ActivityEnvironment
) -> None:
    first = env.run(activities.open_pull_request, fix_request())
    second = env.run(
        activities.open_pull_request,
        fix_request(attempt=2, patch=memory_limit("checkout", "768Mi")),
    )

    assert second.branch == f"{BRANCH}-2"
    assert second.number != first.number
    assert "memory: 768Mi" in (sandbox.read_file(MANIFEST, ref=second.branch) or "")


def test_annotated_path_in_a_multi_document_file(env: ActivityEnvironment) -> None:
    other = CHECKOUT.replace("checkout", "payments")
    shop = f"# the whole shop in one file\n{SERVICE}---\n{other}---\n{CHECKOUT}"
    with GitHubSandbox(REPO, {"clusters/prod/shop.yaml": shop}) as sandbox:
        activities = GitHubActivities(github_settings(sandbox))
        info = env.run(
            activities.open_pull_request, fix_request(manifest_path="clusters/prod/shop.yaml")
        )
        proposed = sandbox.read_file("clusters/prod/shop.yaml", ref=info.branch)

    assert proposed is not None
    changed = [
        (index, line)
        for index, (line, old) in enumerate(
            zip(proposed.splitlines(), shop.splitlines(), strict=True)
        )
        if line != old
    ]
    assert len(changed) == 1
    index, line = changed[0]
    assert line == "              memory: 512Mi  # sized from last quarter's load test"
    assert index > len(f"# the whole shop in one file\n{SERVICE}---\n{other}".splitlines())


def test_search_finds_a_manifest_at_an_unconventional_path(env: ActivityEnvironment) -> None:
    files = {"platform/shop/stack.yml": f"{SERVICE}---\n{CHECKOUT}", "other.yaml": SERVICE}
    with GitHubSandbox(REPO, files) as sandbox:
        activities = GitHubActivities(github_settings(sandbox))
        info = env.run(activities.open_pull_request, fix_request())

    assert info.manifest_path == "platform/shop/stack.yml"


def test_missing_manifest_fails_for_good_naming_what_was_tried(
    activities: GitHubActivities, env: ActivityEnvironment
) -> None:
    with pytest.raises(ApplicationError) as failed:
        env.run(
            activities.open_pull_request,
            fix_request(deployment="ghost", patch=memory_limit("ghost", "1Gi")),
        )

    assert failed.value.type == "ManifestNotFound"
    assert failed.value.non_retryable
    for named in ("demo/ghost", REPO, "apps/ghost/deployment.yaml", "k8s/ghost.yaml"):
        assert named in failed.value.message


def test_annotated_path_that_does_not_exist_fails_for_good(
    activities: GitHubActivities, env: ActivityEnvironment
) -> None:
    with pytest.raises(ApplicationError) as failed:
        env.run(activities.open_pull_request, fix_request(manifest_path="gone/checkout.yaml"))

    assert failed.value.type == "ManifestNotFound"
    assert failed.value.non_retryable
    assert "gone/checkout.yaml" in failed.value.message


def test_unknown_repository_fails_for_good(
    sandbox: GitHubSandbox, env: ActivityEnvironment
) -> None:
    activities = GitHubActivities(github_settings(sandbox, github_repo="acme/nowhere"))
    with pytest.raises(ApplicationError) as failed:
        env.run(activities.open_pull_request, fix_request())

    assert failed.value.type == "RepositoryNotFound"
    assert failed.value.non_retryable
    assert "acme/nowhere" in failed.value.message


def test_forbidden_fails_for_good(
    sandbox: GitHubSandbox, activities: GitHubActivities, env: ActivityEnvironment
) -> None:
    sandbox.faults.set(403)
    with pytest.raises(ApplicationError) as failed:
        env.run(activities.open_pull_request, fix_request())

    assert failed.value.type == "GitHubPermissionDenied"
    assert failed.value.non_retryable
    assert sandbox.faults.injected == 1, "no retry inside the client either"


def test_server_error_is_left_to_temporal_to_retry(
    sandbox: GitHubSandbox, activities: GitHubActivities, env: ActivityEnvironment
) -> None:
    sandbox.faults.set(503)
    with pytest.raises(ApplicationError) as failed:
        env.run(activities.open_pull_request, fix_request())

    assert failed.value.type == "GitHubUnavailable"
    assert not failed.value.non_retryable
    assert sandbox.faults.injected == 1, "the client does not retry on its own"


def test_rate_limit_is_retried_later(
    sandbox: GitHubSandbox, activities: GitHubActivities, env: ActivityEnvironment
) -> None:
    sandbox.faults.set(429)
    with pytest.raises(ApplicationError) as failed:
        env.run(activities.open_pull_request, fix_request())

    assert failed.value.type == "GitHubRateLimited"
    assert not failed.value.non_retryable
    assert failed.value.next_retry_delay is not None


def test_not_configured_says_what_to_set(sandbox: GitHubSandbox, env: ActivityEnvironment) -> None:
    activities = GitHubActivities(github_settings(sandbox, github_repo=None))
    with pytest.raises(ApplicationError) as failed:
        env.run(activities.open_pull_request, fix_request())

    assert failed.value.type == "GitHubNotConfigured"
    assert failed.value.non_retryable
    assert "GITHUB_REPO" in failed.value.message and "GITHUB_TOKEN" in failed.value.message
