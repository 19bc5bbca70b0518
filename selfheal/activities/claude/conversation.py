"""What the investigation workflow and its activities exchange: plain, JSON-able data.

Messages are kept exactly as the Anthropic Messages API takes them (role + content blocks
as dicts), so the workflow can hand the conversation so far to each model turn unchanged.
This module does no I/O; the workflow imports it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from selfheal.domain import Alert, ClusterContext, Diagnosis, TokenUsage

SUBMIT_TOOL = "submit_diagnosis"
"""The tool whose input is the investigation's final answer."""


class ModelTurnRequest(BaseModel):
    """One model turn: the incident it is about and the conversation after the opening."""

    incident_id: str
    model: str
    alert: Alert
    context: ClusterContext
    messages: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Turns after the opening user message, which the activity renders itself",
    )
    final: bool = Field(default=False, description="The last turn allowed: must submit now")


class ToolCall(BaseModel):
    """An investigation tool the model asked for."""

    id: str
    name: str
    input: dict[str, Any] = Field(default_factory=dict)


class ModelTurn(BaseModel):
    """The model's answer to one turn, already checked against the output schema."""

    message: dict[str, Any] = Field(description="The assistant message, as it is sent back")
    usage: TokenUsage
    tool_calls: list[ToolCall] = Field(
        default_factory=list, description="Investigation tools to run before the next turn"
    )
    diagnosis: Diagnosis | None = Field(default=None, description="A valid submission")
    submission_id: str | None = Field(default=None, description="tool_use id of a submission")
    problem: str = Field(
        default="", description="Why the turn holds no valid submission and asks for nothing"
    )


class ToolRequest(BaseModel):
    """Run one investigation tool for the model."""

    incident_id: str
    call: ToolCall
    context: ClusterContext


class ToolAnswer(BaseModel):
    """A tool's redacted answer, as the model reads it."""

    content: str
    is_error: bool = False

    def as_block(self, tool_use_id: str) -> dict[str, Any]:
        """Return the `tool_result` content block answering `tool_use_id`."""
        block: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": tool_use_id,
            "content": self.content,
        }
        if self.is_error:
            block["is_error"] = True
        return block
