"""A JIRA REST v2 stand-in for atlassian-python-api: issues, workflow, comments, JQL search."""

from selfheal_lab.sandbox.jira.sandbox import JiraSandbox
from selfheal_lab.sandbox.jira.state import Comment, Issue

__all__ = ["Comment", "Issue", "JiraSandbox"]
