"""Secrets never leave: canaries in env, Secret data, logs and events vanish from the context."""

from __future__ import annotations

import base64
import json

import pytest
from kubernetes import client

from selfheal.redaction import REDACTED, redact_object, redact_text
from selfheal.snapshots import context_from_objects, context_json

CANARY = "CANARY-7f3a9c1e55d04b2e"

SECRET_TEXTS = {
    "bearer token": f"GET /api 401 Authorization: Bearer {CANARY}xyz",
    "basic auth header": f"authorization: Basic {base64.b64encode(CANARY.encode()).decode()}",
    "password in url": f"connecting to postgres://app:{CANARY}@db.shop.svc:5432/orders",
    "aws access key": "using key AKIAIOSFODNN7CANARY2 for s3",
    "aws secret key": f"aws_secret_access_key={CANARY}",
    "gcp api key": "maps AIzaSyD" + "CANARY" * 5 + "abcd",
    "azure connection string": f"Protocol=https;AccountName=x;AccountKey={CANARY}==;",
    "github token": "cloning with ghp_" + "CANARY" * 6,
    "github fine-grained": "cloning with github_pat_11ABCDEFG0" + "CANARY" * 7,
    "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJDQU5BUlkifQ.c2lnbmF0dXJlQ0FOQVJZ",
    "private key": f"-----BEGIN RSA PRIVATE KEY-----\nMIIE{CANARY}\n-----END RSA PRIVATE KEY-----",
    "escaped private key": (
        f'"private_key": "-----BEGIN PRIVATE KEY-----\\nMII{CANARY}\\n-----END PRIVATE KEY-----\\n"'
    ),
    "password pair": f"login failed password={CANARY} user=admin",
    "quoted json secret": f'{{"client_secret": "{CANARY} with spaces"}}',
    "api key pair": f"api_key: {CANARY}",
    "slack webhook": f"posting to https://hooks.slack.com/services/T0001/B0002/{CANARY}",
    "anthropic key": f"ANTHROPIC key sk-ant-api03-{CANARY}",
    "openai key": f"openai sk-proj-{CANARY}abcdef",
}


@pytest.mark.parametrize("case", sorted(SECRET_TEXTS))
def test_redact_text_removes_credential(case: str) -> None:
    text = SECRET_TEXTS[case]
    redacted = redact_text(text)
    assert "CANARY" not in redacted
    assert REDACTED in redacted


def test_redact_text_keeps_diagnostic_messages() -> None:
    for message in (
        'MountVolume.SetUp failed for volume "app-secrets" : secret "app-secrets" not found',
        "couldn't find key password in Secret shop/accounts-db",
        "Liveness probe failed: HTTP probe failed with statuscode: 404",
        'Failed to pull image "ghcr.io/acme/api:v2": 401 Unauthorized',
        "Last termination: Signal: SIGKILL exitCode=137",
    ):
        assert redact_text(message) == message


def test_redact_object_masks_sensitive_keys_but_keeps_references() -> None:
    obj = {
        "env": [{"name": "STRIPE_API_KEY", "value": CANARY}, {"name": "MODE", "value": "live"}],
        "volumes": [{"name": "creds", "secret": {"secretName": "payments-creds"}}],
        "config": {"dbPassword": CANARY, "passwordSecretRef": {"name": "db", "key": "password"}},
    }
    redacted = redact_object(obj)
    assert CANARY not in json.dumps(redacted)
    assert redacted["env"][1]["value"] == "live"
    assert redacted["volumes"][0]["secret"]["secretName"] == "payments-creds"
    assert redacted["config"]["passwordSecretRef"] == {"name": "db", "key": "password"}


def _api_objects() -> list[dict]:
    """Objects as the Python client returns them: camelCase, list items without kind."""
    api = client.ApiClient()
    container = client.V1Container(
        name="api",
        image="registry.acme.io/shop/api:1.0.0",
        env=[
            client.V1EnvVar(name="DATABASE_URL", value=f"postgres://api:{CANARY}@db:5432/api"),
            client.V1EnvVar(name="FEATURE_FLAGS", value=f"beta,{CANARY}"),
            client.V1EnvVar(
                name="DB_PASSWORD",
                value_from=client.V1EnvVarSource(
                    secret_key_ref=client.V1SecretKeySelector(name="api-db", key="password")
                ),
            ),
        ],
        env_from=[
            client.V1EnvFromSource(config_map_ref=client.V1ConfigMapEnvSource(name="api-settings"))
        ],
    )
    labels = {"app": "api"}
    template = client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels=labels), spec=client.V1PodSpec(containers=[container])
    )
    deployment = client.V1Deployment(
        metadata=client.V1ObjectMeta(
            name="api",
            namespace="shop",
            annotations={
                "deployment.kubernetes.io/revision": "1",
                "kubectl.kubernetes.io/last-applied-configuration": json.dumps(
                    {"env": [{"name": "DATABASE_URL", "value": CANARY}]}
                ),
            },
        ),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels=labels),
            template=template,
            strategy=client.V1DeploymentStrategy(type="RollingUpdate"),
            progress_deadline_seconds=600,
        ),
    )
    owner = client.V1OwnerReference(api_version="apps/v1", kind="Deployment", name="api", uid="u1")
    replicaset = client.V1ReplicaSet(
        metadata=client.V1ObjectMeta(
            name="api-5d8f",
            namespace="shop",
            owner_references=[owner],
            annotations={"deployment.kubernetes.io/revision": "1"},
        ),
        spec=client.V1ReplicaSetSpec(
            selector=client.V1LabelSelector(match_labels=labels), template=template
        ),
    )
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(
            name="api-5d8f-abcde",
            namespace="shop",
            labels=labels,
            owner_references=[
                client.V1OwnerReference(
                    api_version="apps/v1", kind="ReplicaSet", name="api-5d8f", uid="u2"
                )
            ],
        ),
        spec=client.V1PodSpec(containers=[container]),
        status=client.V1PodStatus(phase="Running"),
    )
    event = client.CoreV1Event(
        metadata=client.V1ObjectMeta(name="api-5d8f-abcde.1", namespace="shop"),
        involved_object=client.V1ObjectReference(
            kind="Pod", name="api-5d8f-abcde", namespace="shop"
        ),
        reason="Unhealthy",
        message=f"Readiness probe failed: token={CANARY}",
    )
    secret = client.V1Secret(
        metadata=client.V1ObjectMeta(name="api-db", namespace="shop"),
        type="Opaque",
        data={"password": base64.b64encode(CANARY.encode()).decode()},
        string_data={"username": CANARY},
    )
    settings = client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="api-settings", namespace="shop"),
        data={"WEBHOOK": CANARY, "REGION": "eu-west-1"},
    )
    unrelated = client.V1Secret(
        metadata=client.V1ObjectMeta(name="other-team", namespace="shop"),
        type="Opaque",
        data={"x": "eA=="},
    )
    return [
        api.sanitize_for_serialization(obj)
        for obj in (deployment, replicaset, pod, event, secret, settings, unrelated)
    ]


def test_canaries_never_reach_the_context_json() -> None:
    objects = _api_objects()
    assert "kind" not in objects[2], "list items from the client carry no kind"
    logs = {
        "api-5d8f-abcde/api": f"boot\nAuthorization: Bearer {CANARY}\nconnect postgres://u:{CANARY}@db\n"
    }
    previous = {"api-5d8f-abcde/api": f"password={CANARY}\n"}
    context = context_from_objects(objects, logs, previous, "shop", "api", max_bytes=256 * 1024)

    dumped = context_json(context)
    assert CANARY not in dumped
    assert base64.b64encode(CANARY.encode()).decode() not in dumped
    assert context.deployment is not None and context.deployment["kind"] == "Deployment"
    assert [p["kind"] for p in context.pods] == ["Pod"]
    assert [e["reason"] for e in context.events] == ["Unhealthy"]
    assert [s["metadata"]["name"] for s in context.secrets] == ["api-db"], "only referenced Secrets"
    assert context.secrets[0]["data"] == {"password": "", "username": ""}, "keys kept, values gone"
    assert context.configmaps[0]["data"] == {"REGION": "", "WEBHOOK": ""}
    env = context.pods[0]["spec"]["containers"][0]["env"]
    assert [e["name"] for e in env] == ["DATABASE_URL", "FEATURE_FLAGS", "DB_PASSWORD"]
    assert env[2]["valueFrom"]["secretKeyRef"] == {"key": "password", "name": "api-db"}
    assert "boot" in context.logs["api-5d8f-abcde/api"]
