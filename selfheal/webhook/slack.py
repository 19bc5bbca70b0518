"""Slack's interaction payloads (form-encoded `payload=<JSON>`): which button, by whom, on
which incident and proposal."""

from __future__ import annotations

import json
from typing import Literal
from urllib.parse import parse_qs

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from selfheal.webhook.errors import missing


class SlackUserRef(BaseModel):
    id: str = Field(min_length=1, max_length=40)


class SlackAction(BaseModel):
    action_id: str
    value: str = ""


class SlackContainer(BaseModel):
    channel_id: str = ""
    message_ts: str = ""


class BlockActions(BaseModel):
    """The parts of a `block_actions` payload selfheal reads."""

    type: str
    user: SlackUserRef
    actions: list[SlackAction] = Field(default_factory=list)
    container: SlackContainer = Field(default_factory=SlackContainer)


class ButtonValue(BaseModel):
    """What selfheal's buttons carry (activities/slack/message.py `button_value`)."""

    incident: str = Field(min_length=1, max_length=200)
    proposal: str = Field(min_length=1, max_length=64)


class Click(BaseModel):
    """A click on a decision button."""

    user_id: str
    decision: Literal["approve", "reject"]
    incident_id: str
    proposal: str
    channel: str
    message_ts: str


def interaction_of(body: bytes) -> BlockActions:
    """The interaction in a Slack request body; 422 naming `payload` when it is not one."""
    values = parse_qs(body.decode("utf-8", errors="replace")).get("payload")
    if not values:
        raise RequestValidationError([missing("payload")])
    try:
        return BlockActions.model_validate_json(values[0])
    except ValidationError as err:
        raise RequestValidationError(
            [{**e, "loc": ("body", "payload", *e["loc"])} for e in err.errors()]
        ) from err


def click_of(interaction: BlockActions) -> Click | None:
    """The decision a button click asks for; None for anything that is not one of ours."""
    if interaction.type != "block_actions" or not interaction.actions:
        return None
    action = interaction.actions[0]
    if action.action_id not in ("approve", "reject"):
        return None
    try:
        value = ButtonValue.model_validate(json.loads(action.value))
    except (ValueError, ValidationError) as err:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("body", "payload", "actions", 0, "value"),
                    "msg": "not a selfheal decision button",
                    "input": action.value,
                }
            ]
        ) from err
    return Click(
        user_id=interaction.user.id,
        decision=action.action_id,  # type: ignore[arg-type]
        incident_id=value.incident,
        proposal=value.proposal,
        channel=interaction.container.channel_id,
        message_ts=interaction.container.message_ts,
    )
