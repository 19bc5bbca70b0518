"""The transitions IncidentWorkflow really makes, read from its source.

`run` maps each state to the private method that handles it; a method moves the incident
to the state it names in `self._next(IncidentState.X, ...)`, to ESCALATED through
`self._escalation(...)`, to RESOLVED through `self._resolution(...)`, or through another
private method it calls. The first state is the one `_start_incident` enters; the run ends
at the state its loop stops on and in any state whose handler sets `self._done`.
"""

from __future__ import annotations

import ast
from pathlib import Path

from selfheal.domain import IncidentState

START = "[*]"
Transition = tuple[str, str]

_HELPER_TARGETS = {"_escalation": IncidentState.ESCALATED, "_resolution": IncidentState.RESOLVED}


def _workflow_class(source: Path) -> ast.ClassDef:
    tree = ast.parse(source.read_text())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "IncidentWorkflow":
            return node
    raise LookupError(f"no IncidentWorkflow in {source}")


def _state_of(node: ast.expr) -> IncidentState | None:
    """`IncidentState.X` -> X."""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "IncidentState"
    ):
        return IncidentState[node.attr]
    return None


def _self_calls(method: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(method)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "self"
    ]


class _Targets:
    """Which states each method of the workflow can move the incident to."""

    def __init__(self, cls: ast.ClassDef) -> None:
        self.methods = {
            node.name: node
            for node in cls.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        self._memo: dict[str, set[IncidentState]] = {}

    def of(self, name: str, visiting: frozenset[str] = frozenset()) -> set[IncidentState]:
        if name in self._memo:
            return self._memo[name]
        found: set[IncidentState] = set()
        for call in _self_calls(self.methods[name]):
            assert isinstance(call.func, ast.Attribute)
            callee = call.func.attr
            if callee in _HELPER_TARGETS:
                found.add(_HELPER_TARGETS[callee])
            elif callee == "_next" and call.args and (state := _state_of(call.args[0])):
                found.add(state)
            elif callee in self.methods and callee not in visiting and callee != "_enter":
                found |= self.of(callee, visiting | {name})
        self._memo[name] = found
        return found


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
        for call in _self_calls(method)
        if isinstance(call.func, ast.Attribute) and call.func.attr == "_enter"
        for state in [_state_of(call.args[0])]
        if state is not None
    }


def workflow_transitions(source: Path) -> set[Transition]:
    """Every (from, to) the workflow can make, with `[*]` for its start and its ends."""
    cls = _workflow_class(source)
    targets = _Targets(cls)
    transitions: set[Transition] = {
        (START, state.value) for state in _entered_at_start(targets.methods["_start_incident"])
    }
    for state, handler in _steps(targets.methods["run"]).items():
        transitions |= {(state.value, target.value) for target in targets.of(handler)}
    transitions |= {(state.value, START) for state in _final_states(targets)}
    return transitions


def _final_states(targets: _Targets) -> set[IncidentState]:
    """States the run ends in: the one its loop stops at, and any whose handler sets `_done`."""
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
    for state, handler in _steps(run).items():
        for node in ast.walk(targets.methods[handler]):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Attribute) and t.attr == "_done" for t in node.targets
            ):
                final.add(state)
    return final
