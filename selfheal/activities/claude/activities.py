"""Claude as activities: one model turn, and one investigation tool call, per activity.

The investigation workflow drives the conversation; Temporal records each finished turn,
so a worker crash never pays for a model call twice. The Anthropic client is built with
`max_retries=0` because Temporal owns retries: overload and server errors are retryable
ApplicationErrors (honouring retry-after), while a refused request or key is not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import anthropic
import structlog
from anthropic.types import Message
from kubernetes.config.config_exception import ConfigException
from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from selfheal.activities.claude.output import SubmittedDiagnosis, describe_errors, to_diagnosis
from selfheal.activities.claude.prompt import investigation_tools, opening_message, system_blocks
from selfheal.activities.claude.tools import LiveCluster, answer_tool
from selfheal.activities.kubernetes.client import Clusters
from selfheal.activities.kubernetes.reads import ClusterReads
from selfheal.activities.prometheus.client import clients_from
from selfheal.contracts.claude import (
    INVESTIGATION_TOOL,
    MODEL_TURN,
    SUBMIT_TOOL,
    ModelTurn,
    ModelTurnRequest,
    ToolAnswer,
    ToolCall,
    ToolRequest,
)
from selfheal.contracts.spec import implements
from selfheal.model.diagnosis import TokenUsage
from selfheal.redaction import redact_object
from selfheal.settings import Settings

log = structlog.get_logger("selfheal.claude")

MAX_OUTPUT_TOKENS = 4096
"""Output tokens allowed per model turn."""

HEARTBEAT_EVERY = 2.0
"""Seconds between heartbeats while a model call is in flight, so a dead worker is noticed."""

MAX_RETRY_AFTER = timedelta(seconds=60)

_RETRYABLE_STATUS = {
    408: "ModelUnavailable",
    409: "ModelUnavailable",
    429: "ModelRateLimited",
    529: "ModelOverloaded",
}

T = TypeVar("T")


class ClaudeActivities:
    """The model-turn and tool activities, sharing one Anthropic client built from settings."""

    def __init__(self, settings: Settings, clusters: Clusters | None = None) -> None:
        self.settings = settings
        self._client: anthropic.AsyncAnthropic | None = None
        self._clusters = clusters or Clusters(settings)
        self._prometheus = clients_from(settings).prometheus

    @implements(MODEL_TURN)
    async def model_turn(self, request: ModelTurnRequest) -> ModelTurn:
        """Return the model's next turn: tool calls to run, or its validated diagnosis."""
        client = self._anthropic()
        messages = redact_object([opening_message(request.alert), *request.messages])
        tool_choice = {"type": "tool", "name": SUBMIT_TOOL} if request.final else {"type": "any"}
        try:
            response = await _heartbeating(
                # The conversation is plain JSON from workflow history, not the SDK's TypedDicts.
                client.messages.create(  # type: ignore[call-overload]
                    model=request.model,
                    max_tokens=MAX_OUTPUT_TOKENS,
                    system=system_blocks(request.context),
                    tools=investigation_tools(),
                    tool_choice=tool_choice,
                    messages=messages,
                )
            )
        except anthropic.APIStatusError as error:
            raise _api_failure(error) from None
        except anthropic.APIConnectionError:
            raise ApplicationError(
                "the Anthropic API could not be reached (connection failed or timed out)",
                type="ModelUnreachable",
            ) from None
        turn = read_turn(response, request)
        log.info(
            "model turn",
            incident_id=request.incident_id,
            turn=len(request.messages) // 2 + 1,
            stop_reason=response.stop_reason,
            tools=[call.name for call in turn.tool_calls],
            submitted=turn.submission_id is not None,
            valid=turn.diagnosis is not None,
            input_tokens=turn.usage.input_tokens,
            output_tokens=turn.usage.output_tokens,
            cache_read_tokens=turn.usage.cache_read_tokens,
        )
        return turn

    @implements(INVESTIGATION_TOOL)
    async def investigation_tool(self, request: ToolRequest) -> ToolAnswer:
        """Return the redacted answer to one investigation tool the model asked for: from
        the live cluster the incident is on when the worker reaches it, else from the
        context gathered at the start."""
        live = self._live_cluster(request.context.cluster)
        # The Kubernetes client blocks; the event loop serves the other activities meanwhile.
        answer = await asyncio.to_thread(
            answer_tool, request.call, request.context, live, self._prometheus
        )
        log.info(
            "investigation tool",
            incident_id=request.incident_id,
            tool=request.call.name,
            is_error=answer.is_error,
            chars=len(answer.content),
        )
        return answer

    def _live_cluster(self, cluster: str) -> LiveCluster | None:
        """The cluster the context was read from, to read live; None for a context that was
        not read live (a snapshot) or a cluster this worker has no connection to."""
        if not cluster:
            return None
        try:
            connection = self._clusters[cluster]
            connection.connect()
        except (ApplicationError, ConfigException):
            return None
        return LiveCluster(ClusterReads(connection), frozenset(self.settings.namespaces))

    def _anthropic(self) -> anthropic.AsyncAnthropic:
        key = self.settings.anthropic_api_key
        if key is None:
            raise ApplicationError(
                "no model is configured: set ANTHROPIC_API_KEY, or SELFHEAL_ANALYZER=rules",
                type="ModelNotConfigured",
                non_retryable=True,
            )
        if self._client is None:
            self._client = anthropic.AsyncAnthropic(
                api_key=key.get_secret_value(),
                base_url=self.settings.anthropic_base_url,
                max_retries=0,
            )
        return self._client


def investigation_activities(
    settings: Settings, clusters: Clusters | None = None
) -> list[Callable[..., Any]]:
    """Return the activities the InvestigationWorkflow calls, for the worker to register."""
    claude = ClaudeActivities(settings, clusters)
    return [claude.model_turn, claude.investigation_tool]


def read_turn(response: Message, request: ModelTurnRequest) -> ModelTurn:
    """Return one response as a ModelTurn: the message to send back, tools, or a diagnosis."""
    content: list[dict[str, Any]] = []
    turn = ModelTurn(message={}, usage=usage_of(response))
    for block in response.content:
        if block.type == "text":
            content.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            content.append(
                {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
            )
            call = ToolCall(
                id=block.id,
                name=block.name,
                input=block.input if isinstance(block.input, dict) else {},
            )
            if block.name == SUBMIT_TOOL:
                _read_submission(turn, call.id, block.input, request)
            else:
                turn.tool_calls.append(call)
    turn.message = {"role": "assistant", "content": content or [{"type": "text", "text": "-"}]}
    if turn.diagnosis is None and not turn.tool_calls and not turn.problem:
        turn.problem = (
            "the answer was cut off at the output token limit"
            if response.stop_reason == "max_tokens"
            else f"no tool was called; answer by calling {SUBMIT_TOOL}"
        )
    return turn


def _read_submission(
    turn: ModelTurn, tool_use_id: str, submitted: object, request: ModelTurnRequest
) -> None:
    turn.submission_id = tool_use_id
    try:
        valid = SubmittedDiagnosis.model_validate(submitted)
    except ValidationError as error:
        turn.problem = f"{SUBMIT_TOOL} input does not match its schema: {describe_errors(error)}"
        return
    turn.diagnosis = to_diagnosis(valid, request.context, analyzer=request.model)


def usage_of(response: Message) -> TokenUsage:
    """Return the tokens one response spent, cache reads and writes included."""
    usage = response.usage
    return TokenUsage(
        model_calls=1,
        input_tokens=usage.input_tokens or 0,
        output_tokens=usage.output_tokens or 0,
        cache_read_tokens=usage.cache_read_input_tokens or 0,
        cache_write_tokens=usage.cache_creation_input_tokens or 0,
    )


def _api_failure(error: anthropic.APIStatusError) -> ApplicationError:
    status = error.status_code
    detail = _error_message(error)
    retryable_type = _RETRYABLE_STATUS.get(status) or ("ModelServerError" if status >= 500 else "")
    if retryable_type:
        return ApplicationError(
            f"the Anthropic API answered {status}: {detail}",
            type=retryable_type,
            next_retry_delay=_retry_after(error),
        )
    kind = "ModelAuthFailed" if status in (401, 403) else "ModelRequestRejected"
    return ApplicationError(
        f"the Anthropic API refused the request ({status}): {detail}",
        type=kind,
        non_retryable=True,
    )


def _error_message(error: anthropic.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:300]
    return error.__class__.__name__


def _retry_after(error: anthropic.APIStatusError) -> timedelta | None:
    value = error.response.headers.get("retry-after")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    if seconds is None or seconds <= 0:
        return None
    return min(timedelta(seconds=seconds), MAX_RETRY_AFTER)


async def _heartbeating(call: Awaitable[T]) -> T:
    """Await `call`, heartbeating meanwhile so the server notices a dead worker quickly."""
    task = asyncio.ensure_future(call)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY)
            if done:
                return task.result()
            activity.heartbeat()
    finally:
        task.cancel()
