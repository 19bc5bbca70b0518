"""Claude as a durable investigation: the model-turn and tool activities, and their data."""

from selfheal.activities.claude.activities import ClaudeActivities, investigation_activities

__all__ = ["ClaudeActivities", "investigation_activities"]
