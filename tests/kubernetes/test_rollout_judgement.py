"""How a Deployment's rollout and template are judged, on objects shaped like the API's."""

from __future__ import annotations

from typing import Any

from selfheal.activities.kubernetes.health import RestartLedger
from selfheal.activities.kubernetes.rollout import contains, rollout_status, runs_template
from selfheal.guardrails import is_destructive
from selfheal.model.diagnosis import ActionKind, RemediationAction


def deployment(desired: int = 3, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "checkout", "generation": 2, "annotations": {}},
        "spec": {
            "replicas": desired,
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "checkout:1.4",
                            "resources": {"limits": {"memory": "1Gi"}},
                            "env": [{"name": "MODE", "value": "fast"}],
                        }
                    ]
                }
            },
        },
        "status": {"observedGeneration": 2, **status},
    }


DONE = {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}


def test_rollout_with_every_replica_updated_and_available_is_complete() -> None:
    status = rollout_status(deployment(**DONE))
    assert status.complete and not status.failed
    assert status.message == 'deployment "checkout" successfully rolled out'


def test_rollout_with_old_replicas_left_is_waiting_like_kubectl() -> None:
    status = rollout_status(deployment(**{**DONE, "replicas": 4}))
    assert not status.complete
    assert "1 old replicas are pending termination" in status.message


def test_unobserved_generation_is_not_complete() -> None:
    unobserved = deployment(**DONE)
    unobserved["metadata"]["generation"] = 3
    assert "spec update to be observed" in rollout_status(unobserved).message


def test_progress_deadline_exceeded_is_a_failed_rollout() -> None:
    stuck = deployment(
        updatedReplicas=1,
        conditions=[
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
        ],
    )
    status = rollout_status(stuck)
    assert status.failed and not status.complete


def test_template_patch_is_found_in_the_running_deployment_with_normalised_quantities() -> None:
    patch: dict[str, Any] = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [{"name": "app", "resources": {"limits": {"memory": "1024Mi"}}}]
                }
            }
        }
    }
    assert runs_template(deployment(), patch)
    patch["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "2Gi"
    assert not runs_template(deployment(), patch)


def test_pod_template_patch_is_matched_against_the_template() -> None:
    assert runs_template(
        deployment(), {"spec": {"containers": [{"name": "app", "image": "checkout:1.4"}]}}
    )
    assert not runs_template(
        deployment(), {"spec": {"containers": [{"name": "app", "image": "checkout:1.5"}]}}
    )


def test_containment_matches_list_items_by_name_and_null_means_absent() -> None:
    actual = deployment()["spec"]["template"]
    assert contains(
        actual,
        {"spec": {"containers": [{"name": "app", "env": [{"name": "MODE", "value": "fast"}]}]}},
    )
    assert not contains(actual, {"spec": {"containers": [{"name": "sidecar"}]}})
    assert not contains(actual, {"spec": {"containers": [{"name": "app", "image": None}]}})


def test_scale_down_counts_as_destructive_scale_up_does_not() -> None:
    down = RemediationAction(
        kind=ActionKind.SCALE, namespace="shop", deployment="checkout", replicas=1
    )
    up = RemediationAction(
        kind=ActionKind.SCALE, namespace="shop", deployment="checkout", replicas=5
    )
    assert is_destructive(down, current_replicas=3)
    assert not is_destructive(up, current_replicas=3)


def pod(uid: str, restarts: int) -> dict[str, Any]:
    terminated = {"reason": "OOMKilled", "exitCode": 137}
    status = {"name": "app", "restartCount": restarts, "lastState": {"terminated": terminated}}
    return {
        "metadata": {"uid": uid, "name": f"checkout-{uid}"},
        "status": {"containerStatuses": [status]},
    }


def test_restarts_count_from_the_window_start_and_new_pods_count_from_zero() -> None:
    ledger = RestartLedger()
    ledger.record([pod("a", 4)], opening=True)
    assert ledger.restarts == 0
    ledger.record([pod("a", 5), pod("b", 2)], opening=False)
    assert ledger.restarts == 3
    assert "pod checkout-a container app: OOMKilled (exit code 137)" in ledger.culprits.values()
