"""Client-side incident operations shared by the webhook and the CLI: deliver alerts,
decide, list, and the kill switch. Each talks to Temporal only."""
