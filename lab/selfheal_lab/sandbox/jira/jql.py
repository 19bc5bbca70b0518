"""A small JQL: `field op value` clauses joined by AND, OR, NOT and parentheses, plus ORDER BY.

Operators: `=`, `!=`, `~`, `!~`, `IN (…)`, `NOT IN (…)`, `IS [NOT] EMPTY`. Fields: project,
key/issuekey/id, summary, description, text, comment, labels, status, issuetype/type,
resolution, priority, assignee, reporter, and custom fields by name or `cf[n]`.
`~` matches when every word of the value occurs in the field, ignoring case.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from selfheal_lab.sandbox.jira.state import Issue, JiraState

Predicate = Callable[[Issue], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|!~|>=|<=|=|~|>|<)
      | (?P<punct>[(),])
      | (?P<word>[^\s()=,!~<>"']+)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"}


class JqlError(ValueError):
    """A query the parser cannot understand; the message is JIRA's."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str

    def keyword(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words


@dataclass(frozen=True)
class Query:
    """A compiled query: which issues match and how to order them."""

    matches: Predicate
    order: list[tuple[str, bool]]

    def run(self, issues: list[Issue]) -> list[Issue]:
        """Return the matching issues in the query's order (newest first by default)."""
        found = [issue for issue in issues if self.matches(issue)]
        for name, descending in reversed(self.order or [("created", True)]):
            found.sort(key=partial(_sort_key, name=name), reverse=descending)
        return found


def _sort_key(issue: Issue, name: str) -> tuple[object, ...]:
    if name in ("key", "issuekey", "id"):
        return (issue.project.key, issue.id)
    value = getattr(issue, name, None)
    return (value is None, str(value or ""), issue.id)


def tokenize(text: str) -> list[Token]:
    """Split a JQL string into tokens."""
    tokens: list[Token] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise JqlError(f"Error in the JQL Query: unexpected character at position {position}.")
        kind = match.lastgroup or "word"
        value = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append(Token(kind, value))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token], state: JiraState) -> None:
        self.tokens = tokens
        self.position = 0
        self.state = state

    def peek(self) -> Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise JqlError("Error in the JQL Query: the query ended unexpectedly.")
        self.position += 1
        return token

    def query(self) -> Query:
        matches: Predicate = lambda _issue: True  # noqa: E731 (an empty query matches all)
        token = self.peek()
        if token is not None and not token.keyword("order"):
            matches = self.disjunction()
        order = self.order_by()
        if self.peek() is not None:
            raise JqlError(f"Error in the JQL Query: unexpected '{self.take().text}'.")
        return Query(matches, order)

    def order_by(self) -> list[tuple[str, bool]]:
        token = self.peek()
        if token is None or not token.keyword("order"):
            return []
        self.take()
        if not self.take().keyword("by"):
            raise JqlError("Error in the JQL Query: expecting 'by' after 'order'.")
        order = []
        while True:
            name = self.take().text.lower()
            descending = False
            nxt = self.peek()
            if nxt is not None and nxt.keyword("asc", "desc"):
                descending = self.take().text.lower() == "desc"
            order.append((name, descending))
            nxt = self.peek()
            if nxt is None or nxt.text != ",":
                return order
            self.take()

    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while (token := self.peek()) is not None and token.keyword("or"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else lambda issue: any(p(issue) for p in parts)

    def conjunction(self) -> Predicate:
        parts = [self.negation()]
        while (token := self.peek()) is not None and token.keyword("and"):
            self.take()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else lambda issue: all(p(issue) for p in parts)

    def negation(self) -> Predicate:
        token = self.peek()
        if token is not None and token.keyword("not"):
            self.take()
            inner = self.negation()
            return lambda issue: not inner(issue)
        if token is not None and token.text == "(" and token.kind == "punct":
            self.take()
            inner = self.disjunction()
            if self.take().text != ")":
                raise JqlError("Error in the JQL Query: expecting ')'.")
            return inner
        return self.clause()

    def clause(self) -> Predicate:
        name_token = self.take()
        if name_token.kind not in ("word", "string") or (
            name_token.kind == "word" and name_token.text.lower() in _KEYWORDS
        ):
            raise JqlError(
                f"Error in the JQL Query: expecting a field name, got '{name_token.text}'."
            )
        read = self.field_reader(name_token.text)
        operator = self.take()
        if operator.keyword("is"):
            negate = self.peek() is not None and self.peek().keyword("not")  # type: ignore[union-attr]
            if negate:
                self.take()
            if not self.take().keyword("empty", "null"):
                raise JqlError("Error in the JQL Query: expecting EMPTY after IS.")
            return lambda issue: (len(read(issue)) == 0) != negate
        if operator.keyword("not"):
            if not self.take().keyword("in"):
                raise JqlError("Error in the JQL Query: expecting IN after NOT.")
            values = self.value_list()
            return lambda issue: not _equals_any(read(issue), values)
        if operator.keyword("in"):
            values = self.value_list()
            return lambda issue: _equals_any(read(issue), values)
        if operator.kind != "op":
            raise JqlError(f"Error in the JQL Query: expecting an operator, got '{operator.text}'.")
        value = self.value()
        if name_token.text.lower() == "resolution" and (value or "").lower() == "unresolved":
            value = None
        if operator.text in ("=", "!="):
            if value is None:
                return lambda issue: (len(read(issue)) == 0) == (operator.text == "=")
            if operator.text == "=":
                return lambda issue: _equals_any(read(issue), [value])
            return lambda issue: not _equals_any(read(issue), [value])
        if operator.text in ("~", "!~"):
            words = [w.strip("*?").lower() for w in (value or "").split() if w.strip("*?")]
            contains = lambda issue: _contains_words(read(issue), words)  # noqa: E731
            return contains if operator.text == "~" else lambda issue: not contains(issue)
        raise JqlError(f"Error in the JQL Query: operator '{operator.text}' is not supported.")

    def value(self) -> str | None:
        token = self.take()
        if token.kind == "word" and token.text.lower() in ("empty", "null"):
            return None
        if token.kind not in ("word", "string"):
            raise JqlError(f"Error in the JQL Query: expecting a value, got '{token.text}'.")
        return token.text

    def value_list(self) -> list[str | None]:
        if self.take().text != "(":
            raise JqlError("Error in the JQL Query: expecting '(' before the list of values.")
        values = [self.value()]
        while (token := self.take()).text == ",":
            values.append(self.value())
        if token.text != ")":
            raise JqlError("Error in the JQL Query: expecting ')' after the list of values.")
        return values

    def field_reader(self, name: str) -> Callable[[Issue], list[str]]:
        lowered = name.lower()
        readers: dict[str, Callable[[Issue], list[str]]] = {
            "project": lambda i: [i.project.key, i.project.name, str(i.project.id)],
            "key": lambda i: [i.key, str(i.id)],
            "summary": lambda i: [i.summary],
            "description": lambda i: [i.description] if i.description else [],
            "comment": lambda i: [c.body for c in i.comments],
            "text": lambda i: [i.summary, i.description or "", *(c.body for c in i.comments)],
            "labels": lambda i: list(i.labels),
            "status": lambda i: [i.status],
            "issuetype": lambda i: [i.issuetype],
            "resolution": lambda i: [i.resolution] if i.resolution else [],
            "priority": lambda i: [i.priority],
            "assignee": lambda i: [i.assignee] if i.assignee else [],
            "reporter": lambda i: [i.reporter],
        }
        aliases = {"issuekey": "key", "id": "key", "type": "issuetype", "issue": "key"}
        reader = readers.get(aliases.get(lowered, lowered))
        if reader is not None:
            return reader
        field_id = self.state.field_id(name)
        if field_id is None:
            raise JqlError(
                f"Field '{name}' does not exist or you do not have permission to view it."
            )

        def custom(issue: Issue) -> list[str]:
            value = issue.custom.get(field_id)
            if value is None or value == "":
                return []
            return [str(v) for v in value] if isinstance(value, list) else [str(value)]

        return custom


def _equals_any(actual: list[str], expected: list[str | None]) -> bool:
    wanted = {v.lower() for v in expected if v is not None}
    if None in expected and not actual:
        return True
    return any(value.lower() in wanted for value in actual)


def _contains_words(actual: list[str], words: list[str]) -> bool:
    haystack = " ".join(actual).lower()
    return bool(actual) and all(word in haystack for word in words)


def compile_jql(text: str, state: JiraState) -> Query:
    """Parse `text` into a query over `state`'s issues, or raise JqlError."""
    return _Parser(tokenize(text or ""), state).query()
