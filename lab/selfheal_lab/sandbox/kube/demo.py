"""The demo shop the sandbox cluster starts with, in `demo`: the Deployments checkout,
payments and catalog, the StatefulSet ledger (a claim per replica on the default
StorageClass), the DaemonSet log-agent and the CronJob nightly-report.

`baseline_manifests()` is the single source: the sandbox seeds its cluster from these YAML
texts and the sandbox GitHub repo is seeded with the same files, so the GitOps sync applies
exactly what the cluster already runs. Secrets are not in the repo (as in a real setup);
`demo_secrets()` gives them to the seeding code.
"""

from __future__ import annotations

import base64
from typing import Any

import yaml

DEMO_NAMESPACE = "demo"
DEMO_APPS = ("checkout", "payments", "catalog")
CHAOS_LABEL = "selfheal.dev/chaos"
MANIFEST_ANNOTATION = "selfheal.dev/manifest"

_NAMESPACE = """\
# The demo shop's namespace. The chaos label lets `selfheal chaos inject` break things here;
# Pod Security admission refuses pods below the baseline level (privileged containers).
apiVersion: v1
kind: Namespace
metadata:
  name: demo
  labels:
    selfheal.dev/chaos: enabled
    pod-security.kubernetes.io/enforce: baseline
"""

_DEPLOYMENT = """\
# {name}: {purpose}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: demo
  labels:
    app: {name}
    app.kubernetes.io/part-of: demo-shop
  annotations:
    selfheal.dev/manifest: apps/{name}/deployment.yaml
spec:
  replicas: 2
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
        - name: {name}
          image: registry.sandbox.local/demo/{name}:1.4.2
          ports:
            - name: http
              containerPort: 8080
          env:
            - name: LOG_LEVEL
              valueFrom:
                configMapKeyRef:
                  name: {name}-config
                  key: log_level
            - name: {secret_env}
              valueFrom:
                secretKeyRef:
                  name: {secret}
                  key: {secret_key}
          resources:
            requests:
              cpu: 100m
              memory: {memory}
            limits:
              cpu: 500m
              memory: {memory}  # the working set needs about {need}
          readinessProbe:
            httpGet:
              path: {ready_path}
              port: http
            initialDelaySeconds: 5
            periodSeconds: 5
"""

_CONFIGMAP = """\
# Non-secret settings for {name}.
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
  namespace: demo
  labels:
    app: {name}
data:
  log_level: info
"""

_APPS: dict[str, dict[str, str]] = {
    "checkout": {
        "purpose": "cart and order placement for the demo shop.",
        "secret_env": "DATABASE_URL",
        "secret": "checkout-db",
        "secret_key": "url",
        "memory": "256Mi",
        "need": "180Mi",
        "ready_path": "/ready",
    },
    "payments": {
        "purpose": "charges cards through the payment gateway.",
        "secret_env": "GATEWAY_API_KEY",
        "secret": "payments-gateway",
        "secret_key": "api-key",
        "memory": "384Mi",
        "need": "220Mi",
        "ready_path": "/actuator/health/readiness",
    },
    "catalog": {
        "purpose": "product listing and search.",
        "secret_env": "SEARCH_TOKEN",
        "secret": "catalog-search",
        "secret_key": "token",
        "memory": "256Mi",
        "need": "150Mi",
        "ready_path": "/ready",
    },
}

_LEDGER_SERVICE = """\
# ledger's headless Service: stable DNS names ledger-0.ledger, ledger-1.ledger.
apiVersion: v1
kind: Service
metadata:
  name: ledger
  namespace: demo
  labels:
    app: ledger
    app.kubernetes.io/part-of: demo-shop
spec:
  clusterIP: None
  selector:
    app: ledger
  ports:
    - name: http
      port: 8080
"""

_LEDGER = """\
# ledger: the shop's double-entry ledger; each replica keeps its journal on its own volume.
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ledger
  namespace: demo
  labels:
    app: ledger
    app.kubernetes.io/part-of: demo-shop
  annotations:
    selfheal.dev/manifest: apps/ledger/statefulset.yaml
spec:
  serviceName: ledger
  replicas: 2
  selector:
    matchLabels:
      app: ledger
  template:
    metadata:
      labels:
        app: ledger
    spec:
      containers:
        - name: ledger
          image: registry.sandbox.local/demo/ledger:2.3.0
          ports:
            - name: http
              containerPort: 8080
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              cpu: 500m
              memory: 128Mi  # the working set needs about 90Mi
          readinessProbe:
            httpGet:
              path: /ready
              port: http
            periodSeconds: 5
          volumeMounts:
            - name: data
              mountPath: /var/lib/ledger
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        resources:
          requests:
            storage: 1Gi
"""

_LOG_AGENT = """\
# log-agent: ships every node's container logs; one pod per node.
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: log-agent
  namespace: demo
  labels:
    app: log-agent
    app.kubernetes.io/part-of: demo-shop
  annotations:
    selfheal.dev/manifest: apps/log-agent/daemonset.yaml
spec:
  selector:
    matchLabels:
      app: log-agent
  template:
    metadata:
      labels:
        app: log-agent
    spec:
      containers:
        - name: log-agent
          image: registry.sandbox.local/library/fluent-bit:3.1
          resources:
            requests:
              cpu: 50m
              memory: 64Mi
            limits:
              memory: 64Mi
"""

_NIGHTLY_REPORT = """\
# nightly-report: the day's sales report, written at 02:00 UTC.
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly-report
  namespace: demo
  labels:
    app: nightly-report
    app.kubernetes.io/part-of: demo-shop
  annotations:
    selfheal.dev/manifest: apps/nightly-report/cronjob.yaml
spec:
  schedule: "0 2 * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    metadata:
      labels:
        app: nightly-report
    spec:
      backoffLimit: 2
      activeDeadlineSeconds: 1800
      template:
        metadata:
          labels:
            app: nightly-report
        spec:
          restartPolicy: Never
          containers:
            - name: report
              image: registry.sandbox.local/library/busybox:1.36
              command: ["sh", "-c", "echo nightly report written"]
"""

# The workloads beyond the Deployments: {repo path: YAML text}, in creation order.
_WORKLOADS = {
    "apps/ledger/service.yaml": _LEDGER_SERVICE,
    "apps/ledger/statefulset.yaml": _LEDGER,
    "apps/log-agent/daemonset.yaml": _LOG_AGENT,
    "apps/nightly-report/cronjob.yaml": _NIGHTLY_REPORT,
}

# Values a test can look for to prove that secrets never leak into context or logs.
SECRET_CANARIES = {
    "checkout-db": {"url": "postgres://checkout:canary-7f3a9c2e@orders-db.demo.svc:5432/orders"},
    "payments-gateway": {"api-key": "sk_live_canary_51d0e8b4a7"},
    "catalog-search": {"token": "search-canary-0c9d8e7f"},
}


def baseline_manifests() -> dict[str, str]:
    """Return the demo app's manifests as {repo path: YAML text}, comments included."""
    manifests = {"apps/namespace.yaml": _NAMESPACE}
    for name, values in _APPS.items():
        manifests[f"apps/{name}/deployment.yaml"] = _DEPLOYMENT.format(name=name, **values)
        manifests[f"apps/{name}/configmap.yaml"] = _CONFIGMAP.format(name=name)
    manifests.update(_WORKLOADS)
    return manifests


def demo_secrets() -> list[dict[str, Any]]:
    """Return the demo app's Secrets (created by seeding, not kept in the manifest repo)."""
    secrets = []
    for secret, data in SECRET_CANARIES.items():
        app = secret.split("-", 1)[0]
        secrets.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": secret, "namespace": DEMO_NAMESPACE, "labels": {"app": app}},
                "type": "Opaque",
                "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
            }
        )
    return secrets


def demo_objects() -> list[dict[str, Any]]:
    """Return every demo object in creation order: namespace, config, secrets, deployments,
    then the other workloads."""
    manifests = baseline_manifests()
    objects = [yaml.safe_load(manifests["apps/namespace.yaml"])]
    objects += [yaml.safe_load(manifests[f"apps/{name}/configmap.yaml"]) for name in _APPS]
    objects += demo_secrets()
    objects += [yaml.safe_load(manifests[f"apps/{name}/deployment.yaml"]) for name in _APPS]
    objects += [yaml.safe_load(manifests[path]) for path in _WORKLOADS]
    return objects
