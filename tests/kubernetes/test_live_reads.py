"""The model's investigation tools read the live cluster, redacted and within reach."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client

from selfheal.activities.claude.activities import ClaudeActivities
from selfheal.activities.kubernetes.activities import KubernetesActivities
from selfheal.contracts.claude import ToolAnswer, ToolCall, ToolRequest
from selfheal.contracts.kubernetes import ClusterContext, ContextRequest
from selfheal.settings import Settings
from tests.kubernetes.workloads import config_map, create, deployment, eventually, pods

Ask = Callable[..., ToolAnswer]


def asking(kubeconfig: Path, kube: KubernetesActivities, context: ClusterContext) -> Ask:
    """Ask one tool as the investigation would, with the worker's own connections."""
    settings = Settings(kubeconfig=kubeconfig, cluster="sandbox", namespaces=["shop", "payments"])
    claude = ClaudeActivities(settings, kube.clusters)

    def ask(tool: str, **arguments: Any) -> ToolAnswer:
        call = ToolCall(id="t1", name=tool, input=arguments)
        request = ToolRequest(incident_id="inc-1", call=call, context=context)
        return asyncio.run(claude.investigation_tool(request))

    return ask


def service(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"selector": {"app": name}, "ports": [{"port": 5432}]},
    }


def test_the_investigation_reads_what_the_context_lacks_live_and_redacted(
    activities: Callable[..., KubernetesActivities],
    api_client: client.ApiClient,
    namespace: str,
    kubeconfig: Path,
) -> None:
    create(api_client, namespace, deployment("checkout"))
    create(
        api_client,
        namespace,
        config_map("checkout-db", DB_HOST="postgres", DB_PASSWORD="s3cr3t-value"),
    )
    create(api_client, namespace, service("postgres"))
    eventually(lambda: len(pods(api_client, namespace, "checkout")) == 2, what="two pods")
    kube = activities()
    context = kube.gather_context(
        ContextRequest(
            incident_id="inc-1", cluster="sandbox", namespace=namespace, workload="checkout"
        )
    )
    assert context.cluster == "sandbox"
    ask = asking(kubeconfig, kube, context)

    # What the workload depends on, which the gathered context does not hold.
    postgres = ask("get_object", kind="Service", name="postgres")
    assert not postgres.is_error
    assert json.loads(postgres.content)["spec"]["ports"][0]["port"] == 5432
    settings = ask("get_object", kind="ConfigMap", name="checkout-db")
    assert not settings.is_error and "DB_PASSWORD" in settings.content
    assert "s3cr3t-value" not in settings.content and "postgres" not in settings.content

    listed = json.loads(ask("list_objects", kind="Pod", label_selector="app=checkout").content)
    assert sorted(pod["name"] for pod in listed) == sorted(
        pod["metadata"]["name"] for pod in pods(api_client, namespace, "checkout")
    )
    log = ask("container_logs", pod=listed[0]["name"], container="app", tail_lines=5)
    assert not log.is_error


def test_secrets_other_namespaces_and_missing_objects_are_answers_the_model_can_correct(
    activities: Callable[..., KubernetesActivities], namespace: str, kubeconfig: Path
) -> None:
    kube = activities()
    ask = asking(
        kubeconfig,
        kube,
        ClusterContext(namespace=namespace, workload="checkout", cluster="sandbox"),
    )
    secret = ask("get_object", kind="Secret", name="db")
    assert secret.is_error and "cannot be read" in secret.content
    elsewhere = ask("list_objects", kind="Pod", namespace="kube-system")
    assert elsewhere.is_error and "out of reach" in elsewhere.content
    assert "payments" in elsewhere.content  # it names where it may read
    missing = ask("get_object", kind="Service", name="nope")
    assert missing.is_error and "404" in missing.content


def test_without_a_cluster_the_tools_answer_from_the_context(tmp_path: Path) -> None:
    context = ClusterContext(
        namespace="shop",
        workload="checkout",
        cluster="default",
        logs={"checkout-1/app": "ready\nserving"},
    )
    claude = ClaudeActivities(Settings(kubeconfig=tmp_path / "absent", cluster="default"))
    request = ToolRequest(
        incident_id="inc-1",
        call=ToolCall(
            id="t1", name="container_logs", input={"pod": "checkout-1", "container": "app"}
        ),
        context=context,
    )
    assert asyncio.run(claude.investigation_tool(request)).content == "ready\nserving"
    request.call = ToolCall(id="t2", name="get_object", input={"kind": "Service", "name": "db"})
    answer = asyncio.run(claude.investigation_tool(request))
    assert answer.is_error and "no live cluster" in answer.content
