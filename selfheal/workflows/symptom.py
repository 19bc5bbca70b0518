"""Verification by the symptom: after the workload has stayed healthy, do the conditions of
the alerts that paged still hold? (workflow code: it calls check_symptom)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from selfheal.contracts.prometheus import (
        CHECK_SYMPTOM,
        SYMPTOM_NOT_CHECKED,
        SYMPTOM_UNCHECKABLE,
        SymptomReport,
        SymptomRequest,
    )
    from selfheal.model.alerts import Alert
    from selfheal.model.incident import IncidentStatus
    from selfheal.model.policy import IncidentPolicy
    from selfheal.workflows.activity_calls import call
    from selfheal.workflows.judgement import reason

CHECK_MARGIN = timedelta(minutes=1)
"""Added to the check's own wait and window so a slow query does not fail it."""


async def symptom_after_fix(
    status: IncidentStatus, alert: Alert, kind: str, policy: IncidentPolicy
) -> SymptomReport:
    """Whether the alerts' conditions cleared and stayed clear for the verify window,
    waiting up to SELFHEAL_ALERT_CLEAR_TIMEOUT; a check that fails is reported unchecked."""
    if not policy.symptoms:
        return SymptomReport(checked=False, message=SYMPTOM_NOT_CHECKED)
    assert alert.namespace and alert.workload
    request = SymptomRequest(
        incident_id=status.id,
        cluster=status.cluster,
        namespace=alert.namespace,
        workload=alert.workload,
        kind=kind,
        alert_names=list(status.alert_names) or [alert.name],
        window=policy.verify_window,
        wait=policy.alert_clear_timeout,
    )
    try:
        return await call(
            CHECK_SYMPTOM,
            request,
            start_to_close=request.wait + request.window * 2 + CHECK_MARGIN,
        )
    except ActivityError as err:
        return SymptomReport(
            checked=False, failed=True, message=f"{SYMPTOM_UNCHECKABLE}: {reason(err)}"
        )
