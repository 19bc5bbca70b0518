"""Prints the rules engine's diagnosis accuracy per failure class, overall, and per workload
kind over tests/scenarios.

    python benchmarks/diagnosis.py [SCENARIO_ROOT] [--verbose]

A scenario counts as right when both its category and its fix kind match `expected.yaml`
(and `fault_found`, when the scenario says the workload is healthy). Per class: `accuracy`
is right/total over the scenarios expecting the class; `claimed` counts the scenarios the
rules put in the class, and `precision` the share of those that belong there. Every class
of the vocabulary gets a row, with or without scenarios; so does every workload kind
(`kind` in expected.yaml; scenarios without it are Deployments).
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from selfheal.activities.analysis import diagnose_context
from selfheal.activities.fixes.registry import propose_fix
from selfheal.contracts.kubernetes import WORKLOAD_KINDS
from selfheal.model.alerts import Alert
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory, FixLimits, FixProposal
from selfheal.snapshots import load_snapshot

DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "tests" / "scenarios"


@dataclass
class Outcome:
    """One scenario's expectation and what the rules made of it."""

    path: Path
    expected: dict
    diagnosis: Diagnosis
    fix: FixProposal

    @property
    def right(self) -> bool:
        return (
            self.diagnosis.category.value == self.expected["category"]
            and self.fix.kind.value == self.expected["fix"]
            and self.diagnosis.fault_found == self.expected.get("fault_found", True)
        )


def scenario_dirs(root: Path) -> list[Path]:
    """Return every scenario directory (one holding expected.yaml) under `root`, sorted."""
    return sorted(path.parent for path in root.glob("*/*/expected.yaml"))


def run_scenario(path: Path) -> Outcome:
    """Diagnose one scenario snapshot and propose its fix."""
    expected = yaml.safe_load((path / "expected.yaml").read_text())
    alert_file = path / "alert.yaml"
    alert = None
    if alert_file.exists():
        alert = Alert.model_validate(yaml.safe_load(alert_file.read_text()))
    context = load_snapshot(path)
    diagnosis = diagnose_context(alert, context)
    return Outcome(path, expected, diagnosis, propose_fix(diagnosis, context, FixLimits()))


HEADER = (
    f"{'category':<18} {'right':>5} {'total':>5} {'accuracy':>9} {'claimed':>8} {'precision':>9}"
)


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "-"


def class_rows(outcomes: list[Outcome]) -> list[str]:
    """One line per failure class: right/total/accuracy, then claimed and precision."""
    expected: dict[str, list[Outcome]] = defaultdict(list)
    claimed: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        expected[outcome.expected["category"]].append(outcome)
        claimed[outcome.diagnosis.category.value].append(outcome)
    rows = []
    for category in sorted({c.value for c in DiagnosisCategory} | set(expected)):
        items, claims = expected[category], claimed[category]
        right = sum(outcome.right for outcome in items)
        belong = sum(outcome.expected["category"] == category for outcome in claims)
        rows.append(
            f"{category:<18} {right:>5} {len(items):>5} {_share(right, len(items)):>9} "
            f"{len(claims):>8} {_share(belong, len(claims)):>9}"
        )
    return rows


KIND_HEADER = f"{'kind':<18} {'right':>5} {'total':>5} {'accuracy':>9}"


def kind_rows(outcomes: list[Outcome]) -> list[str]:
    """One line per workload kind (`kind` in expected.yaml, else Deployment)."""
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_kind[outcome.expected.get("kind", "Deployment")].append(outcome)
    rows = []
    for kind in sorted(set(WORKLOAD_KINDS) | set(by_kind)):
        items = by_kind[kind]
        right = sum(outcome.right for outcome in items)
        rows.append(f"{kind:<18} {right:>5} {len(items):>5} {_share(right, len(items)):>9}")
    return rows


def main(argv: list[str]) -> int:
    verbose = "--verbose" in argv
    args = [arg for arg in argv if not arg.startswith("--")]
    root = Path(args[0]) if args else DEFAULT_ROOT
    started = time.perf_counter()
    outcomes = [run_scenario(path) for path in scenario_dirs(root)]
    elapsed = time.perf_counter() - started
    print(HEADER)
    for row in class_rows(outcomes):
        print(row)
    right = sum(outcome.right for outcome in outcomes)
    total = len(outcomes)
    print(f"{'overall':<18} {right:>5} {total:>5} {right / max(total, 1):>9.0%}")
    print()
    print(KIND_HEADER)
    for row in kind_rows(outcomes):
        print(row)
    print(f"{total} scenarios in {elapsed * 1000:.0f} ms")
    for outcome in outcomes:
        if verbose or not outcome.right:
            mark = "ok " if outcome.right else "BAD"
            print(
                f"{mark} {outcome.path.relative_to(root)}: expected "
                f"{outcome.expected['category']}/{outcome.expected['fix']}, got "
                f"{outcome.diagnosis.category.value}/{outcome.fix.kind.value} "
                f"({outcome.diagnosis.confidence:.2f}) - {outcome.diagnosis.summary}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
