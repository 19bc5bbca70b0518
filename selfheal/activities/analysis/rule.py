"""The one interface every failure-class rule implements."""

from __future__ import annotations

from typing import Protocol

from selfheal.activities.analysis.workload import WorkloadView
from selfheal.model.diagnosis import Diagnosis


class Rule(Protocol):
    """Recognises one failure class in a workload, or says nothing.

    `diagnose` returns a Diagnosis only for a problem that is live in the snapshot (not one
    that healed an hour ago); the registry's order decides which rule wins when several do.
    """

    name: str

    def diagnose(self, view: WorkloadView) -> Diagnosis | None:
        """Return the diagnosis this rule makes of `view`, or None when it does not apply."""
        ...
