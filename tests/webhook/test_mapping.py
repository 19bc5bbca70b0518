"""How alerts that name no Deployment directly are mapped to one, and how senders are checked."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from selfheal.model.alerts import Alert, AlertStatus
from selfheal.model.workload_labels import workload_of
from selfheal.webhook.alertmanager import AlertmanagerAlert
from selfheal.webhook.alertmanager import alert_of as alertmanager_alert
from selfheal.webhook.auth import bearer_token, hub_signature, pagerduty_signature
from selfheal.webhook.github import incident_of_branch
from selfheal.webhook.jira import Issue
from selfheal.webhook.jira import alert_of as jira_alert
from selfheal.webhook.pagerduty import IncidentData
from selfheal.webhook.pagerduty import alert_of as pagerduty_alert
from selfheal.webhook.service_map import ServiceMap, ServiceMapError, load_service_map


@pytest.mark.parametrize(
    ("labels", "workload"),
    [
        ({"deployment": "checkout", "pod": "other-7d4b9c8f6-x2x9k"}, ("Deployment", "checkout")),
        ({"replicaset": "checkout-7d4b9c8f6"}, ("Deployment", "checkout")),
        (
            {"pod": "checkout-api-7d4b9c8f6-x2x9k", "service": "kube-state-metrics"},
            ("Deployment", "checkout-api"),
        ),
        ({"statefulset": "books", "pod": "books-1"}, ("StatefulSet", "books")),
        ({"daemonset": "log-agent", "pod": "log-agent-x2x9k"}, ("DaemonSet", "log-agent")),
        ({"cronjob": "nightly-report"}, ("CronJob", "nightly-report")),
        # A CronJob's Job: `<cronjob>-<scheduled minute since the epoch>`.
        ({"job_name": "nightly-report-29412345"}, ("CronJob", "nightly-report")),
        ({"job_name": "nightly-report-29412345", "cronjob": "other"}, ("CronJob", "other")),
        ({"job_name": "migrate-db"}, ("Job", "migrate-db")),
        ({"job_name": "migrate-12345"}, ("Job", "migrate-12345")),  # not a minute of 2000-2100
        ({"job_name": "import-99999999"}, ("Job", "import-99999999")),
        ({"pod": "nightly-report-29412345-x2x9k"}, ("CronJob", "nightly-report")),
        ({"pod": "web-0", "app_kubernetes_io_name": "web"}, ("StatefulSet", "web")),
        ({"pod": "web-12", "service": "kube-state-metrics"}, ("StatefulSet", "web")),
        ({"pod": "web-0"}, ("StatefulSet", "web")),
        # The app label names another workload: `web-0` may be a bare Pod; the label wins.
        ({"pod": "web-0", "app": "frontend"}, ("Deployment", "frontend")),
        # Five safe digits are a generated suffix (a DaemonSet's or Job's pod), no ordinal.
        ({"pod": "agent-24567"}, None),
        ({"pod": "web-01"}, None),
        ({"pod": "standalone", "service": "web-svc"}, ("Deployment", "web-svc")),
        ({}, None),
    ],
)
def test_workload_and_kind_come_from_labels_or_pod_names(
    labels: dict[str, str], workload: tuple[str, str] | None
):
    assert workload_of(labels) == workload


def test_alertmanager_alerts_name_their_workloads_kind():
    alert = alertmanager_alert(
        AlertmanagerAlert.model_validate(
            {
                "status": "firing",
                "labels": {
                    "alertname": "KubeStatefulSetReplicasMismatch",
                    "namespace": "shop",
                    "statefulset": "books",
                },
            }
        )
    )
    assert (alert.kind, alert.workload) == ("StatefulSet", "books")
    assert alert.target.key == "default/shop/StatefulSet/books"
    deployment = alert.model_copy(update={"kind": "Deployment", "workload": "books"})
    # A Deployment's identity, and so its workflow id, is what it was before kinds.
    assert deployment.target.workflow_id == "workload-books-" + deployment.target.digest[:8]
    assert deployment.target.key == "default/shop/Deployment/books"


def test_generic_alerts_may_name_a_kind_in_any_case_and_deployments_serialize_as_before():
    alert = Alert.model_validate(
        {"name": "Down", "namespace": "shop", "workload": "agent", "kind": "daemonset"}
    )
    assert alert.target.kind == "DaemonSet"
    assert json.loads(alert.model_dump_json())["kind"] == "DaemonSet"
    plain = Alert(name="Down", namespace="shop", workload="api")
    assert "kind" not in json.loads(plain.model_dump_json())
    assert Alert.model_validate_json(plain.model_dump_json()) == plain
    with pytest.raises(ValidationError, match="kind must be one of"):
        Alert.model_validate({"name": "Down", "kind": "ReplicaSet"})


@pytest.mark.parametrize(
    ("branch", "incident"),
    [
        ("selfheal/inc-checkout-oomkilled-0a1b2c3d", "inc-checkout-oomkilled-0a1b2c3d"),
        ("selfheal/inc-checkout-oomkilled-0a1b2c3d-2", "inc-checkout-oomkilled-0a1b2c3d"),
        ("selfheal/inc-a-b-12345678-87654321", "inc-a-b-12345678-87654321"),
        ("feature/inc-checkout-oomkilled-0a1b2c3d", None),
        ("selfheal/something-else", None),
    ],
)
def test_fix_branches_name_their_incident(branch: str, incident: str | None):
    assert incident_of_branch(branch) == incident


def incident(**extra: object) -> IncidentData:
    return IncidentData.model_validate(
        {"id": "Q1", "title": "Checkout down", "service": {"summary": "Checkout API"}, **extra}
    )


def test_pagerduty_custom_details_win_over_the_service_map():
    services = ServiceMap.model_validate(
        {"services": {"checkout api": {"namespace": "shop", "deployment": "checkout"}}}
    )
    mapped = pagerduty_alert(incident(), AlertStatus.FIRING, services)
    assert (mapped.namespace, mapped.workload) == ("shop", "checkout")  # matched ignoring case
    detailed = pagerduty_alert(
        incident(custom_details={"namespace": "pay", "deployment": "api", "cluster": "eu"}),
        AlertStatus.RESOLVED,
        services,
    )
    assert (detailed.cluster, detailed.namespace, detailed.workload) == ("eu", "pay", "api")
    assert detailed.status == AlertStatus.RESOLVED
    unmapped = pagerduty_alert(incident(), AlertStatus.FIRING, ServiceMap())
    assert unmapped.workload is None
    assert unmapped.target.kind == "Unmapped"
    assert unmapped.target.incident_id("run", 1).startswith("inc-unmapped-checkout-down-")


def issue(**fields: object) -> Issue:
    return Issue.model_validate({"key": "OPS-7", "fields": {"summary": "Checkout down", **fields}})


def test_jira_tags_custom_fields_and_components_name_the_workload():
    services = ServiceMap.model_validate(
        {"services": {"Checkout": {"namespace": "shop", "deployment": "checkout", "cluster": "c2"}}}
    )
    tagged = jira_alert(issue(labels=["k8s:prod:demo/cart"]), services)
    assert (tagged.cluster, tagged.namespace, tagged.workload) == ("prod", "demo", "cart")
    custom = jira_alert(issue(customfield_10070=[{"value": "k8s:demo/cart"}]), services)
    assert (custom.namespace, custom.workload) == ("demo", "cart")
    component = jira_alert(issue(components=[{"name": "Checkout"}]), services)
    assert (component.cluster, component.namespace, component.workload) == (
        "c2",
        "shop",
        "checkout",
    )
    assert component.ticket_key == "OPS-7"
    assert jira_alert(issue(), services).workload is None


def test_pagerduty_details_and_the_service_map_name_any_workload_kind():
    services = ServiceMap.model_validate(
        {
            "services": {
                "checkout api": {"namespace": "demo", "workload": "ledger", "kind": "statefulset"}
            }
        }
    )
    mapped = pagerduty_alert(incident(), AlertStatus.FIRING, services)
    assert (mapped.kind, mapped.namespace, mapped.workload) == ("StatefulSet", "demo", "ledger")
    cases = {
        "DaemonSet/log-agent": {"namespace": "demo", "daemonset": "log-agent"},
        "CronJob/nightly-report": {"namespace": "demo", "job_name": "nightly-report-29149290"},
        "StatefulSet/ledger": {"namespace": "demo", "pod": "ledger-1"},
        "Job/backfill": {"namespace": "demo", "workload": "backfill", "kind": "job"},
        "Deployment/api": {"namespace": "demo", "workload": "api"},
    }
    for expected, details in cases.items():
        alert = pagerduty_alert(incident(custom_details=details), AlertStatus.FIRING, ServiceMap())
        assert f"{alert.kind}/{alert.workload}" == expected, details
    # The app and service labels do not name a workload here: the service map decides.
    by_service = pagerduty_alert(
        incident(custom_details={"namespace": "x", "service": "y"}), AlertStatus.FIRING, services
    )
    assert (by_service.kind, by_service.workload) == ("StatefulSet", "ledger")
    with pytest.raises(ValidationError, match="kind must be one of"):
        pagerduty_alert(
            incident(custom_details={"namespace": "d", "workload": "w", "kind": "Widget"}),
            AlertStatus.FIRING,
            ServiceMap(),
        )


def test_jira_tags_and_components_name_any_workload_kind():
    services = ServiceMap.model_validate(
        {
            "services": {
                "Agents": {"namespace": "demo", "workload": "log-agent", "kind": "DaemonSet"}
            }
        }
    )
    tagged = jira_alert(issue(labels=["k8s:prod:demo/statefulset/ledger"]), services)
    assert (tagged.cluster, tagged.namespace, tagged.kind, tagged.workload) == (
        "prod",
        "demo",
        "StatefulSet",
        "ledger",
    )
    plain = jira_alert(issue(labels=["k8s:demo/cart"]), services)
    assert (plain.kind, plain.workload) == ("Deployment", "cart")
    component = jira_alert(issue(components=[{"name": "agents"}]), services)
    assert (component.kind, component.workload) == ("DaemonSet", "log-agent")
    nonsense = jira_alert(
        issue(labels=["k8s:demo/widget/x"], components=[{"name": "Agents"}]), services
    )
    assert (nonsense.kind, nonsense.workload) == ("DaemonSet", "log-agent"), "no such kind: no tag"


def test_service_map_file_is_read_and_its_faults_named(tmp_path: Path):
    good = tmp_path / "services.yaml"
    good.write_text("services:\n  Checkout: {namespace: shop, deployment: checkout}\n")
    assert load_service_map(good).lookup("checkout") is not None
    assert load_service_map(None).lookup("checkout") is None
    bad = tmp_path / "bad.yaml"
    bad.write_text("services:\n  Checkout: {namespace: shop}\n")
    with pytest.raises(ServiceMapError, match=r"bad\.yaml"):
        load_service_map(bad)
    with pytest.raises(ServiceMapError, match=r"missing\.yaml"):
        load_service_map(tmp_path / "missing.yaml")


def test_pagerduty_accepts_any_listed_signature_during_rotation():
    body = b'{"event": {}}'
    good = hmac.new(b"new", body, hashlib.sha256).hexdigest()
    old = hmac.new(b"old", body, hashlib.sha256).hexdigest()
    check = pagerduty_signature(SecretStr("new"))
    assert check({"x-pagerduty-signature": f"v1={old}, v1={good}"}, body) is None
    assert check({"x-pagerduty-signature": f"v1={old}"}, body) is not None
    assert check({"x-pagerduty-signature": f"v0={good}"}, body) is not None


def test_hub_signatures_and_tokens_must_match_exactly():
    body = b"{}"
    check = hub_signature("X-Hub-Signature-256", SecretStr("s"))
    digest = hmac.new(b"s", body, hashlib.sha256).hexdigest()
    assert check({"x-hub-signature-256": f"sha256={digest}"}, body) is None
    assert check({"x-hub-signature-256": f"sha1={digest}"}, body) is not None
    token = bearer_token(SecretStr("t"))
    assert token({"authorization": "Bearer t"}, body) is None
    assert token({"authorization": "bearer t"}, body) is None
    assert token({"authorization": "Bearer tt"}, body) is not None
    assert bearer_token(None)({"authorization": "Bearer t"}, body) is not None
