"""Claude as a durable investigation: the model-turn and tool activities (activities.py)."""
