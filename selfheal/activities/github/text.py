"""What selfheal writes on GitHub: commit messages, pull request titles, bodies and comments."""

from __future__ import annotations

from selfheal.contracts.github import PullRequestRequest, RevertRequest
from selfheal.redaction import redact_text

MAX_EVIDENCE = 10
MAX_DETAIL = 300


def marker(incident_id: str, what: str) -> str:
    """Return the hidden tag that lets a retried activity find what it already wrote."""
    return f"<!-- selfheal:{what}:{incident_id} -->"


def fix_title(request: PullRequestRequest) -> str:
    """Return the fix pull request's title (also the commit's first line)."""
    return (
        f"selfheal: {request.fix.kind.value} for {request.namespace}/{request.deployment} "
        f"({request.incident_id})"
    )


def fix_body(request: PullRequestRequest, path: str, diff: str) -> str:
    """Return the fix pull request's description: diagnosis, evidence, diff, risk, how to decide."""
    diagnosis, fix, incident = request.diagnosis, request.fix, request.incident_id
    lines = [
        f"## selfheal: {fix.kind.value} for `{request.namespace}/{request.deployment}`",
        "",
        f"Incident `{incident}`"
        + (f" · ticket **{request.ticket_key}**" if request.ticket_key else ""),
        "",
        "### Diagnosis",
        f"**{diagnosis.category.value}** (confidence {diagnosis.confidence:.0%}, "
        f"by {diagnosis.analyzer}): {diagnosis.summary}",
    ]
    if diagnosis.evidence:
        lines += ["", "Evidence:"]
        for item in diagnosis.evidence[:MAX_EVIDENCE]:
            detail = " ".join(item.detail.split())[:MAX_DETAIL]
            lines.append(f"- `{item.source}`: {detail}")
    lines += [
        "",
        "### Proposed change",
        f"Risk: **{fix.risk.value}**. {fix.rationale}",
        "",
    ]
    for change in fix.changes:
        lines.append(
            f"- `{change.path}`: {change.before or '(unset)'} → {change.after or '(unset)'}"
        )
    lines += [
        "",
        f"`{path}`:",
        "",
        "```diff",
        diff.rstrip("\n"),
        "```",
        "",
        "### Approve or reject",
        f"- Approve (selfheal merges this pull request): `selfheal approve {incident} --by NAME`",
        f"- Reject (selfheal closes it): `selfheal reject {incident} --by NAME --reason REASON`",
        "- Or review it here: an approving review from an allowed approver counts the same.",
    ]
    if request.ui_url:
        lines.append(f"- Follow the incident in the Temporal UI: {request.ui_url}")
    lines += ["", marker(incident, "fix")]
    return redact_text("\n".join(lines)) + "\n"


def revert_title(number: int, incident_id: str) -> str:
    """Return the revert pull request's title."""
    return f"selfheal: revert #{number} ({incident_id})"


def revert_body(request: RevertRequest, paths: list[str], diff: str) -> str:
    """Return the revert pull request's description: why, what it restores, the diff."""
    lines = [
        f"## selfheal: revert #{request.number}",
        "",
        f"Incident `{request.incident_id}`: the fix from #{request.number} did not verify, so "
        "this restores the manifests as they were before it merged.",
        "",
        f"Reason: {request.reason}",
        "",
        "Files: " + ", ".join(f"`{path}`" for path in paths),
        "",
        "```diff",
        diff.rstrip("\n"),
        "```",
        "",
        "The incident is escalated; merge this pull request to put the workload back.",
        "",
        marker(request.incident_id, "revert"),
    ]
    return redact_text("\n".join(lines)) + "\n"


def merge_comment(incident_id: str, approved_by: str) -> str:
    """Return the comment left on a pull request selfheal merges."""
    return (
        f"Approved by **{approved_by}** for incident `{incident_id}`; selfheal squash-merges "
        "this pull request."
    )


def close_comment(incident_id: str, reason: str) -> str:
    """Return the comment left on a pull request selfheal closes."""
    return f"selfheal closes this pull request for incident `{incident_id}`: {redact_text(reason)}"
