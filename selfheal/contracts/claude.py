"""The model-driven investigation: its input and result, and the turn-by-turn activities."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field
from temporalio.common import RetryPolicy

from selfheal.contracts.kubernetes import ClusterContext
from selfheal.contracts.spec import BEST_EFFORT, ActivityCall
from selfheal.model.alerts import Alert
from selfheal.model.diagnosis import Diagnosis, TokenUsage


class InvestigationRequest(BaseModel):
    """Input of the model-driven investigation (a child workflow)."""

    incident_id: str
    alert: Alert
    context: ClusterContext
    model: str
    max_turns: int = 8
    max_tokens: int = 200_000


class InvestigationResult(BaseModel):
    """The model's diagnosis, or why there is none (the rules then take over)."""

    diagnosis: Diagnosis | None = None
    usage: TokenUsage = Field(default_factory=TokenUsage)
    failure: str = ""


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


MODEL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=4,
)
"""Overload and server errors: a few attempts with backoff, then the rules take over."""

MODEL_TURN = ActivityCall(
    "model_turn",
    ModelTurn,
    timedelta(minutes=3),
    retry=MODEL_RETRY,
    heartbeat=timedelta(seconds=10),
)
INVESTIGATION_TOOL = ActivityCall(
    "investigation_tool", ToolAnswer, timedelta(seconds=60), retry=BEST_EFFORT
)
