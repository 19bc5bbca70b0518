"""The direct path never changes a Job or a bare Pod in place (a Job's template and a Pod's
spec are immutable): such an action is refused before the cluster is read."""

from __future__ import annotations

from typing import Any, cast

import pytest
from temporalio.exceptions import ApplicationError

from selfheal.activities.kubernetes.remediation import apply_remediation
from selfheal.contracts.kubernetes import RemediationRequest
from selfheal.model.diagnosis import ActionKind, RemediationAction
from selfheal.settings import Settings


class Untouchable:
    """A cluster connection that fails the test if anything reads it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the cluster was used: {name}")


@pytest.mark.parametrize("kind", ["Job", "Pod"])
def test_an_action_for_a_job_or_pod_is_refused_without_reading_the_cluster(kind: str) -> None:
    action = RemediationAction(
        kind=ActionKind.PATCH,
        namespace="shop",
        deployment="ledger-db",
        patch={"spec": {"template": {"spec": {"containers": [{"name": "db", "image": "x"}]}}}},
        workload_kind=kind,
    )
    request = RemediationRequest(incident_id="inc-ledger-db-1", action=action)
    with pytest.raises(ApplicationError) as refused:
        apply_remediation(cast(Any, Untouchable()), Settings(namespaces=["shop"]), request)
    assert refused.value.type == "UnsupportedWorkloadKind" and refused.value.non_retryable
    assert kind in refused.value.message
