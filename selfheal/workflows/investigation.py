"""InvestigationWorkflow: Claude investigates one incident, one durable step at a time.

    opening → model turn ─┬─ tool calls → one activity each → next model turn
                          ├─ valid submit_diagnosis → Diagnosis (its proposed fix unchecked)
                          └─ invalid or no answer → one corrective re-ask, then failure
    turns or tokens used up, or the API failing after retries → failure (the rules take over)

The incident workflow runs this as a child when the policy asks for a model. Every model
turn and every tool call is its own activity, so a crashed worker resumes after the last
finished step and never pays for a model call twice. It never fails: every way it can end
without a diagnosis is an InvestigationResult with `failure` saying why.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from selfheal.contracts.claude import (
        INVESTIGATION_TOOL,
        MODEL_TURN,
        InvestigationRequest,
        InvestigationResult,
        ModelTurn,
        ModelTurnRequest,
        ToolAnswer,
        ToolCall,
        ToolRequest,
    )
    from selfheal.model.diagnosis import TokenUsage
    from selfheal.workflows.activity_calls import call


@workflow.defn(name="InvestigationWorkflow")
class InvestigationWorkflow:
    """A model-driven investigation of one incident, ending in a Diagnosis or a reason."""

    def __init__(self) -> None:
        self._usage = TokenUsage()
        self._turns = 0

    @workflow.run
    async def run(self, request: InvestigationRequest) -> InvestigationResult:
        messages: list[dict[str, Any]] = []
        reasked = False
        while self._turns < request.max_turns:
            if self.tokens_spent >= request.max_tokens:
                return self._failure(
                    f"budget exhausted: {self.tokens_spent} of {request.max_tokens} tokens "
                    f"spent in {self._turns} turns without a diagnosis"
                )
            try:
                turn = await self._model_turn(request, messages)
            except ActivityError as err:
                return self._failure(f"model call failed: {_reason(err)}")
            if turn.diagnosis is not None:
                diagnosis = turn.diagnosis.model_copy(update={"usage": self._usage})
                return InvestigationResult(diagnosis=diagnosis, usage=self._usage)
            if turn.problem:
                if reasked:
                    return self._failure(f"invalid model output after a re-ask: {turn.problem}")
                reasked = True
            messages.append(turn.message)
            messages.append(await self._answer(request, turn))
        return self._failure(
            f"budget exhausted: {request.max_turns} model turns without a diagnosis"
        )

    @property
    def tokens_spent(self) -> int:
        """Every token the model read or wrote, cached ones included."""
        usage = self._usage
        return (
            usage.input_tokens
            + usage.output_tokens
            + usage.cache_read_tokens
            + usage.cache_write_tokens
        )

    async def _model_turn(
        self, request: InvestigationRequest, messages: list[dict[str, Any]]
    ) -> ModelTurn:
        self._turns += 1
        turn = await call(
            MODEL_TURN,
            ModelTurnRequest(
                incident_id=request.incident_id,
                model=request.model,
                alert=request.alert,
                context=request.context,
                messages=messages,
                final=self._turns == request.max_turns,
            ),
        )
        self._usage = self._usage.add(turn.usage)
        return turn

    async def _answer(self, request: InvestigationRequest, turn: ModelTurn) -> dict[str, Any]:
        """Return the user message that answers every tool the model called in `turn`."""
        answers = await asyncio.gather(
            *(self._run_tool(request, tool_call) for tool_call in turn.tool_calls)
        )
        blocks = [
            answer.as_block(tool_call.id)
            for tool_call, answer in zip(turn.tool_calls, answers, strict=True)
        ]
        if turn.submission_id is not None:
            rejected = ToolAnswer(content=turn.problem, is_error=True)
            blocks.append(rejected.as_block(turn.submission_id))
        elif turn.problem:
            blocks.append({"type": "text", "text": turn.problem})
        return {"role": "user", "content": blocks}

    async def _run_tool(self, request: InvestigationRequest, tool_call: ToolCall) -> ToolAnswer:
        try:
            return await call(
                INVESTIGATION_TOOL,
                ToolRequest(
                    incident_id=request.incident_id, call=tool_call, context=request.context
                ),
            )
        except ActivityError as err:
            return ToolAnswer(content=f"the tool failed: {_reason(err)}", is_error=True)

    def _failure(self, reason: str) -> InvestigationResult:
        workflow.logger.info("investigation ended without a diagnosis: %s", reason)
        return InvestigationResult(usage=self._usage, failure=reason)


def _reason(err: ActivityError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return f"{cause.message} [{cause.type}]" if cause.type else cause.message
    return str(cause or err)
