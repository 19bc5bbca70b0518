"""The pull request flow selfheal drives, through real PyGithub over HTTP."""

from __future__ import annotations

import pytest
import requests
from github import Github, GithubException, UnknownObjectException

from selfheal_lab.sandbox.github import GitHubSandbox
from tests.sandbox_github.conftest import BOT_TOKEN, MANIFESTS, REVIEWER_TOKEN, client

PATH = "apps/checkout/deployment.yaml"


def open_fix_branch(bot: Github, branch: str, old: str, new: str) -> str:
    """Branch from main, replace `old` by `new` in the checkout manifest; return the new text."""
    repo = bot.get_repo("acme/infra")
    main = repo.get_branch("main")
    repo.create_git_ref(ref=f"refs/heads/{branch}", sha=main.commit.sha)
    current = repo.get_contents(PATH, ref=branch)
    assert not isinstance(current, list)
    text = current.decoded_content.decode()
    assert old in text
    updated = text.replace(old, new)
    repo.update_file(PATH, f"raise memory in {branch}", updated, current.sha, branch=branch)
    return updated


def test_branch_edit_review_and_squash_merge(
    sandbox: GitHubSandbox, bot: Github, reviewer: Github
) -> None:
    repo = bot.get_repo("acme/infra")
    assert repo.default_branch == "main"
    main_before = repo.get_branch("main").commit.sha
    original = sandbox.read_file(PATH)
    assert original is not None

    updated = open_fix_branch(bot, "selfheal/inc-1", "memory: 256Mi", "memory: 384Mi")

    on_branch = repo.get_contents(PATH, ref="selfheal/inc-1")
    assert not isinstance(on_branch, list)
    assert on_branch.decoded_content.decode() == updated
    assert sandbox.read_file(PATH) == original, "main must not change before the merge"

    pr = repo.create_pull(base="main", head="selfheal/inc-1", title="Raise memory", body="why")
    assert pr.number == 1
    assert pr.html_url.startswith(sandbox.url)
    assert pr.mergeable is True
    files = list(pr.get_files())
    assert [f.filename for f in files] == [PATH]
    assert (files[0].additions, files[0].deletions) == (1, 1)
    assert "+              memory: 384Mi  # sized" in files[0].patch

    with pytest.raises(GithubException) as own:
        pr.create_review(body="lgtm", event="APPROVE")
    assert own.value.status == 422
    assert "own pull request" in str(own.value.data)

    as_reviewer = reviewer.get_repo("acme/infra").get_pull(pr.number)
    as_reviewer.create_review(body="ship it", event="APPROVE")
    reviews = list(pr.get_reviews())
    assert [(r.user.login, r.state) for r in reviews] == [("alice", "APPROVED")]

    result = pr.merge(merge_method="squash", commit_title="Raise checkout memory (#1)")
    assert result.merged

    merged = repo.get_pull(pr.number)
    assert merged.merged and merged.state == "closed"
    assert merged.merged_by.login == "selfheal-bot"
    assert merged.is_merged()
    main = repo.get_branch("main").commit
    assert main.sha == merged.merge_commit_sha
    assert [p.sha for p in main.parents] == [main_before], "squash adds exactly one commit"
    assert main.commit.message.startswith("Raise checkout memory (#1)")
    assert sandbox.read_file(PATH) == updated

    with pytest.raises(GithubException) as again:
        merged.merge(merge_method="squash")
    assert again.value.status == 405

    page = requests.get(merged.html_url, timeout=5)
    assert page.status_code == 200 and "Raise memory" in page.text and "merged" in page.text


def test_branch_protection_requires_an_approval_from_someone_else(bot: Github) -> None:
    with GitHubSandbox("acme/infra", MANIFESTS, required_approvals=1) as protected:
        protected.add_user("alice", REVIEWER_TOKEN)
        gh = client(protected, BOT_TOKEN)
        open_fix_branch(gh, "selfheal/inc-p", "replicas: 2", "replicas: 3")
        pr = gh.get_repo("acme/infra").create_pull(
            base="main", head="selfheal/inc-p", title="scale", body=""
        )
        assert pr.mergeable_state == "blocked"
        with pytest.raises(GithubException) as blocked:
            pr.merge(merge_method="squash")
        assert blocked.value.status == 405
        reviewer = client(protected, REVIEWER_TOKEN).get_repo("acme/infra")
        reviewer.get_pull(pr.number).create_review(body="ok", event="APPROVE")
        assert pr.merge(merge_method="squash").merged
        assert "replicas: 3" in (protected.read_file(PATH) or "")


def test_deleting_the_head_branch_closes_the_pull_request(bot: Github) -> None:
    open_fix_branch(bot, "selfheal/inc-gone", "replicas: 2", "replicas: 6")
    repo = bot.get_repo("acme/infra")
    pr = repo.create_pull(base="main", head="selfheal/inc-gone", title="gone", body="")
    repo.get_git_ref("heads/selfheal/inc-gone").delete()
    closed = repo.get_pull(pr.number)
    assert (closed.state, closed.merged) == ("closed", False)
    assert closed.head.sha == pr.head.sha


def test_comments_and_labels(sandbox: GitHubSandbox, bot: Github) -> None:
    open_fix_branch(bot, "selfheal/inc-2", "replicas: 2", "replicas: 3")
    repo = bot.get_repo("acme/infra")
    pr = repo.create_pull(base="main", head="selfheal/inc-2", title="Scale up", body="")
    repo.create_label("selfheal", "0e8a16", "opened by selfheal")
    pr.add_to_labels("selfheal", "severity:critical")
    pr.create_issue_comment("Deploy watch started")
    pr.create_issue_comment("Verified healthy")

    again = repo.get_pull(pr.number)
    assert sorted(label.name for label in again.get_labels()) == ["selfheal", "severity:critical"]
    assert repo.get_label("selfheal").color == "0e8a16"
    expected = ["Deploy watch started", "Verified healthy"]
    assert [c.body for c in again.get_issue_comments()] == expected
    assert [c.body for c in sandbox.comments(pr.number)] == expected
    assert repo.get_issue(pr.number).pull_request is not None
    with pytest.raises(GithubException) as duplicate:
        repo.create_label("selfheal", "ffffff")
    assert duplicate.value.status == 422


def test_list_pulls_filters_by_head_and_state(bot: Github) -> None:
    repo = bot.get_repo("acme/infra")
    open_fix_branch(bot, "selfheal/inc-a", "replicas: 2", "replicas: 4")
    open_fix_branch(bot, "selfheal/inc-b", "LOG_LEVEL", "LOG_FORMAT")
    a = repo.create_pull(base="main", head="selfheal/inc-a", title="a", body="")
    b = repo.create_pull(base="main", head="selfheal/inc-b", title="b", body="")
    b.edit(state="closed")

    open_a = list(repo.get_pulls(state="open", head="acme:selfheal/inc-a"))
    assert [p.number for p in open_a] == [a.number]
    assert list(repo.get_pulls(state="open", head="acme:selfheal/inc-b")) == []
    all_b = list(repo.get_pulls(state="all", head="acme:selfheal/inc-b"))
    assert [(p.number, p.state, p.merged) for p in all_b] == [(b.number, "closed", False)]

    with pytest.raises(GithubException) as duplicate:
        repo.create_pull(base="main", head="selfheal/inc-a", title="again", body="")
    assert duplicate.value.status == 422
    assert "already exists" in str(duplicate.value.data)


def test_stale_sha_and_conflicts_are_refused(sandbox: GitHubSandbox, bot: Github) -> None:
    repo = bot.get_repo("acme/infra")
    open_fix_branch(bot, "selfheal/inc-c", "memory: 256Mi", "memory: 300Mi")
    stale = repo.get_contents(PATH, ref="main")
    assert not isinstance(stale, list)
    repo.update_file(PATH, "someone else", "replaced\n", stale.sha, branch="main")

    with pytest.raises(GithubException) as conflict:
        repo.update_file(PATH, "stale write", "mine\n", stale.sha, branch="main")
    assert conflict.value.status == 409

    pr = repo.create_pull(base="main", head="selfheal/inc-c", title="conflicted", body="")
    assert pr.mergeable is False and pr.mergeable_state == "dirty"
    with pytest.raises(GithubException) as refused:
        pr.merge(merge_method="squash")
    assert refused.value.status == 405
    assert sandbox.read_file(PATH) == "replaced\n"


def test_unknown_repo_and_path_are_404(bot: Github) -> None:
    with pytest.raises(UnknownObjectException):
        bot.get_repo("acme/nope")
    repo = bot.get_repo("acme/infra")
    with pytest.raises(UnknownObjectException):
        repo.get_contents("apps/nope/deployment.yaml")
    with pytest.raises(UnknownObjectException):
        repo.get_branch("selfheal/missing")
    listing = repo.get_contents("apps")
    assert isinstance(listing, list)
    assert sorted(c.path for c in listing) == ["apps/catalog", "apps/checkout", "apps/payments"]


def test_branch_ref_lifecycle_and_multi_file_commit(sandbox: GitHubSandbox, bot: Github) -> None:
    from github import InputGitTreeElement

    repo = bot.get_repo("acme/infra")
    main = repo.get_git_ref("heads/main")
    ref = repo.create_git_ref("refs/heads/selfheal/inc-d", main.object.sha)
    with pytest.raises(GithubException) as exists:
        repo.create_git_ref("refs/heads/selfheal/inc-d", main.object.sha)
    assert exists.value.status == 422

    base = repo.get_git_commit(main.object.sha)
    tree = repo.create_git_tree(
        [
            InputGitTreeElement("apps/a.yaml", "100644", "blob", content="a: 1\n"),
            InputGitTreeElement("apps/b.yaml", "100644", "blob", content="b: 2\n"),
        ],
        base_tree=repo.get_git_tree(base.tree.sha),
    )
    commit = repo.create_git_commit("two files", tree, [base])
    ref.edit(commit.sha)
    assert repo.get_git_ref("heads/selfheal/inc-d").object.sha == commit.sha
    assert sandbox.read_file("apps/b.yaml", ref="selfheal/inc-d") == "b: 2\n"
    assert [r.ref for r in repo.get_git_matching_refs("heads/selfheal/")] == [
        "refs/heads/selfheal/inc-d"
    ]

    ref.delete()
    with pytest.raises(UnknownObjectException):
        repo.get_git_ref("heads/selfheal/inc-d")


def test_get_user_reports_the_token_owner(bot: Github, reviewer: Github) -> None:
    assert bot.get_user().login == "selfheal-bot"
    assert reviewer.get_user().login == "alice"
