"""JIRA: the incident's ticket, opened, mirrored and caught up (activities.py)."""
