"""Diagnosis as an activity: the rules engine behind `diagnose`."""

from __future__ import annotations

from selfheal.activities.analysis.engine import diagnose_context
from selfheal.contracts.analysis import DIAGNOSE, DiagnosisRequest
from selfheal.contracts.spec import implements
from selfheal.model.diagnosis import Diagnosis
from selfheal.settings import Settings


class AnalysisActivities:
    """Analysis activities, built once in the worker with its settings.

    `diagnose` runs the offline rules. The Claude investigation is a separate set of
    activities driven turn by turn by the workflow; it falls back to this one.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @implements(DIAGNOSE)
    async def diagnose(self, request: DiagnosisRequest) -> Diagnosis:
        """Return the rules' diagnosis of the request's (already redacted) cluster context."""
        return diagnose_context(request.alert, request.context)
