"""The decision message: the incident, its diagnosis and evidence, the fix as a diff, and the
Approve / Reject buttons, in Block Kit (each text within Slack's limits, secrets redacted)."""

from __future__ import annotations

import json
from typing import Any

from selfheal.contracts.slack import DecisionCard
from selfheal.model.diagnosis import FixProposal
from selfheal.model.incident import IncidentState
from selfheal.redaction import redact_text

Block = dict[str, Any]

APPROVE = "approve"
REJECT = "reject"
ACTIONS_BLOCK = "decision"
MAX_SECTION = 2900
"""Slack refuses a section text over 3000 characters; the rest is cut with a mark."""
MAX_EVIDENCE = 5

_ICONS = {
    IncidentState.AWAITING_REVIEW: ":eyes:",
    IncidentState.AWAITING_APPROVAL: ":raised_hand:",
    IncidentState.DEPLOYING: ":rocket:",
    IncidentState.VERIFYING: ":stethoscope:",
    IncidentState.RESOLVED: ":white_check_mark:",
    IncidentState.ESCALATED: ":rotating_light:",
}
DECISION_STATES = frozenset({IncidentState.AWAITING_REVIEW, IncidentState.AWAITING_APPROVAL})


def button_value(incident_id: str, digest: str) -> str:
    """What a button carries: the incident and the proposal it decides."""
    return json.dumps({"incident": incident_id, "proposal": digest}, separators=(",", ":"))


def fallback_text(card: DecisionCard) -> str:
    """The notification text (and what screen readers say)."""
    where = f"{card.namespace}/{card.service}" if card.service else card.incident_id
    return redact_text(f"{card.state.value}: {where} ({card.incident_id}): {card.note}")[:3000]


def blocks(card: DecisionCard) -> list[Block]:
    """The message's blocks; the buttons only while the incident waits for this decision."""
    shown = [_section(_headline(card))]
    diagnosis = card.diagnosis
    if diagnosis is not None:
        lines = [
            f"*Diagnosis* — {diagnosis.category.value} ({diagnosis.confidence:.0%}, "
            f"{diagnosis.analyzer}): {diagnosis.summary}"
        ]
        for item in diagnosis.evidence[:MAX_EVIDENCE]:
            lines.append(f"• `{item.source}`: {' '.join(item.detail.split())[:300]}")
        shown.append(_section("\n".join(lines)))
    if card.fix is not None:
        fix = card.fix
        shown.append(
            _section(
                f"*Fix* — {fix.kind.value}, risk *{fix.risk.value}*, proposal `{fix.digest}`\n"
                f"{fix.rationale}\n```{diff(fix)}```"
            )
        )
    links = _links(card)
    if links:
        shown.append({"type": "context", "elements": [{"type": "mrkdwn", "text": links}]})
    if card.state in DECISION_STATES and card.fix is not None:
        shown.append(_buttons(card.incident_id, card.fix.digest))
    return shown


def diff(fix: FixProposal) -> str:
    """The fix as a diff of the fields it changes (or of its patch, when it lists none)."""
    if fix.changes:
        lines = []
        for change in fix.changes:
            lines += [
                f"  {change.path}",
                f"- {change.before or '(unset)'}",
                f"+ {change.after or '(unset)'}",
            ]
        return "\n".join(lines)
    if fix.manifest_patch:
        patch = json.dumps(fix.manifest_patch, indent=1, sort_keys=True)
        return "\n".join(f"+ {line}" for line in patch.splitlines())
    action = fix.action
    return (
        f"+ {action.kind.value} {action.namespace}/{action.deployment}" if action else "(no change)"
    )


def _headline(card: DecisionCard) -> str:
    icon = _ICONS.get(card.state, ":information_source:")
    where = f"`{card.namespace}/{card.service}`" if card.service else "an unmapped workload"
    cluster = f" on {card.cluster}" if card.cluster else ""
    return (
        f"{icon} *{card.state.value}* — {where}{cluster} · incident `{card.incident_id}` "
        f"(attempt {card.attempt})\n{card.note}"
    )


def _links(card: DecisionCard) -> str:
    parts = []
    if card.pr_url:
        parts.append(f"<{card.pr_url}|pull request>")
    if card.ticket_key:
        parts.append(
            f"<{card.ticket_url}|{card.ticket_key}>" if card.ticket_url else card.ticket_key
        )
    if card.deadline is not None and card.state in DECISION_STATES:
        epoch = int(card.deadline.timestamp())
        iso = card.deadline.strftime("%Y-%m-%d %H:%M UTC")
        parts.append(
            f"decide by <!date^{epoch}^{{date_short_pretty}} {{time}}|{iso}>, else it escalates"
        )
    return " · ".join(parts)


def _buttons(incident_id: str, digest: str) -> Block:
    value = button_value(incident_id, digest)
    return {
        "type": "actions",
        "block_id": ACTIONS_BLOCK,
        "elements": [
            {
                "type": "button",
                "action_id": APPROVE,
                "style": "primary",
                "value": value,
                "text": {"type": "plain_text", "text": "Approve"},
            },
            {
                "type": "button",
                "action_id": REJECT,
                "style": "danger",
                "value": value,
                "text": {"type": "plain_text", "text": "Reject"},
                "confirm": {
                    "title": {"type": "plain_text", "text": "Reject the fix?"},
                    "text": {"type": "mrkdwn", "text": "The incident escalates to a person."},
                    "confirm": {"type": "plain_text", "text": "Reject"},
                    "deny": {"type": "plain_text", "text": "Cancel"},
                },
            },
        ],
    }


def _section(text: str) -> Block:
    text = redact_text(text)
    if len(text) > MAX_SECTION:
        text = text[:MAX_SECTION] + "\n… (cut)"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
