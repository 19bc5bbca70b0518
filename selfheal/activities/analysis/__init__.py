"""Offline diagnosis: one rule per failure class, run by `diagnose_context`."""

from selfheal.activities.analysis.engine import diagnose_context

__all__ = ["diagnose_context"]
