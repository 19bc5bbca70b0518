"""What an experiment prints: incidents started, resolved, escalated, lost; duplicates; recovery."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Figures:
    """The outcome of one experiment; `passed` is False on any loss, duplicate or wrong end."""

    experiment: str
    started: int = 0
    resolved: int = 0
    escalated: int = 0
    lost: int = 0
    wrong: int = 0
    duplicate_prs: int = 0
    duplicate_tickets: int = 0
    duplicate_mutations: int = 0
    recovery_seconds: dict[str, float] = field(default_factory=dict)
    elapsed_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return self.duplicate_prs + self.duplicate_tickets + self.duplicate_mutations

    @property
    def passed(self) -> bool:
        return not (self.lost or self.wrong or self.duplicates or self.problems)

    def fail(self, problem: str) -> None:
        """Record something that makes the experiment fail, in a sentence."""
        self.problems.append(problem)

    def add(self, other: Figures) -> None:
        """Add another run's counts to these (for experiments made of several runs)."""
        for name in (
            "started",
            "resolved",
            "escalated",
            "lost",
            "wrong",
            "duplicate_prs",
            "duplicate_tickets",
            "duplicate_mutations",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.recovery_seconds |= other.recovery_seconds
        self.problems += other.problems

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "passed": self.passed}, indent=2, default=str)

    def render(self) -> str:
        """The figures as lines for a person."""
        lines = [
            f"experiment {self.experiment}: {'PASSED' if self.passed else 'FAILED'}",
            f"  incidents started   {self.started}",
            f"  resolved            {self.resolved}",
            f"  escalated           {self.escalated}",
            f"  lost                {self.lost}",
            f"  ended wrongly       {self.wrong}",
            f"  duplicate PRs       {self.duplicate_prs}",
            f"  duplicate tickets   {self.duplicate_tickets}",
            f"  duplicate k8s muts  {self.duplicate_mutations}",
        ]
        for what, seconds in self.recovery_seconds.items():
            lines.append(f"  time to recover     {seconds:6.1f} s  ({what})")
        for key, value in self.extra.items():
            lines.append(f"  {key:<19} {value}")
        lines.append(f"  elapsed             {self.elapsed_seconds:6.1f} s")
        lines += [f"  problem: {problem}" for problem in self.problems]
        return "\n".join(lines)
