"""The transitions IncidentWorkflow really makes, read from its source.

`run` maps each state to the method that handles it; a method moves the incident to the state
it names in `Go(STATE, ...)`, to ESCALATED through `escalate(...)`, to RESOLVED through
`resolve(...)`, or through another method it calls on the workflow or on one of its
collaborators (`self._changes.apply(...)` reads `Changes.apply` in changes.py). The first
state is the one `_start_incident` enters; the run ends at the state its loop stops on and in
any state whose handler returns `Closed(...)`.
"""

from __future__ import annotations

import ast
from pathlib import Path

from selfheal.model.incident import IncidentState

START = "[*]"
Transition = tuple[str, str]

_HELPERS = {"escalate": IncidentState.ESCALATED, "resolve": IncidentState.RESOLVED}


def _classes(source: Path) -> dict[str, ast.ClassDef]:
    tree = ast.parse(source.read_text())
    return {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}


def _state_of(node: ast.expr) -> IncidentState | None:
    """`IncidentState.X` or a bare `X` naming a state -> X."""
    named = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
    if named and node.value.id == "IncidentState":  # type: ignore[attr-defined]
        return IncidentState[node.attr]  # type: ignore[attr-defined]
    if isinstance(node, ast.Name) and node.id in IncidentState.__members__:
        return IncidentState[node.id]
    return None


def _methods(cls: ast.ClassDef) -> dict[str, ast.AST]:
    return {
        node.name: node
        for node in cls.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


class _Targets:
    """Which states each method of the workflow (and of its collaborators) can move it to."""

    def __init__(self, workflow: ast.ClassDef, collaborators: dict[str, ast.ClassDef]) -> None:
        self.methods = _methods(workflow)
        self._collaborators = {attr: _methods(cls) for attr, cls in collaborators.items()}
        self._memo: dict[tuple[str, str], set[IncidentState]] = {}

    def of(
        self, name: str, owner: str = "", visiting: frozenset[str] = frozenset()
    ) -> set[IncidentState]:
        key = (owner, name)
        if key in self._memo:
            return self._memo[key]
        methods = self._collaborators[owner] if owner else self.methods
        found: set[IncidentState] = set()
        for call in (n for n in ast.walk(methods[name]) if isinstance(n, ast.Call)):
            found |= self._targets_of(call, owner, methods, visiting | {f"{owner}.{name}"})
        self._memo[key] = found
        return found

    def _targets_of(
        self, call: ast.Call, owner: str, methods: dict[str, ast.AST], visiting: frozenset[str]
    ) -> set[IncidentState]:
        func = call.func
        if isinstance(func, ast.Name) and func.id in _HELPERS:
            return {_HELPERS[func.id]}
        if isinstance(func, ast.Name) and func.id == "Go" and call.args:
            state = _state_of(call.args[0])
            return {state} if state else set()
        if not isinstance(func, ast.Attribute):
            return set()
        target = func.value
        if isinstance(target, ast.Name) and target.id == "self" and func.attr in methods:
            if func.attr == "_enter" or f"{owner}.{func.attr}" in visiting:
                return set()
            return self.of(func.attr, owner, visiting)
        # self._changes.apply(...): a collaborator's method
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
            and target.attr in self._collaborators
            and func.attr in self._collaborators[target.attr]
        ):
            return self.of(func.attr, target.attr, visiting)
        return set()


def _steps(run: ast.AST) -> dict[IncidentState, str]:
    """The `steps` mapping of `run`: state -> handler method name."""
    for node in ast.walk(run):
        if isinstance(node, ast.Dict) and node.keys:
            mapping = {}
            for key, value in zip(node.keys, node.values, strict=True):
                state = _state_of(key) if key is not None else None
                if state is not None and isinstance(value, ast.Attribute):
                    mapping[state] = value.attr
            if mapping:
                return mapping
    raise LookupError("run() has no state -> handler mapping")


def _entered_at_start(method: ast.AST) -> set[IncidentState]:
    return {
        state
        for call in ast.walk(method)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "Go"
        for state in [_state_of(call.args[0])]
        if state is not None
    }


def workflow_transitions(source: Path) -> set[Transition]:
    """Every (from, to) the workflow can make, with `[*]` for its start and its ends."""
    classes = _classes(source)
    changes = _classes(source.parent / "changes.py")["Changes"]
    targets = _Targets(classes["IncidentWorkflow"], {"_changes": changes})
    transitions: set[Transition] = {
        (START, state.value) for state in _entered_at_start(targets.methods["_start_incident"])
    }
    steps = _steps(targets.methods["run"])
    for state, handler in steps.items():
        transitions |= {(state.value, target.value) for target in targets.of(handler)}
    transitions |= {(state.value, START) for state in _final_states(targets, steps)}
    return transitions


def _final_states(targets: _Targets, steps: dict[IncidentState, str]) -> set[IncidentState]:
    """States the run ends in: the one its loop stops at, and any whose handler may close."""
    run = targets.methods["run"]
    final = {
        state
        for loop in ast.walk(run)
        if isinstance(loop, ast.While)
        for compare in ast.walk(loop.test)
        if isinstance(compare, ast.Compare)
        for state in [_state_of(compare.comparators[0])]
        if state is not None
    }
    for state, handler in steps.items():
        for node in ast.walk(targets.methods[handler]):
            func = node.func if isinstance(node, ast.Call) else None
            if isinstance(func, ast.Name) and func.id == "Closed":
                final.add(state)
    return final
