"""GitHub: the fix pull request, its review state, merge, close and revert (activities.py)."""
