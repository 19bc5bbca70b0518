"""Manifests written the way people write them: comments, quotes, a flow map, indented lists."""

from __future__ import annotations

from typing import Any

CHECKOUT = """\
# checkout: owned by team-payments. Changes go through pull requests; Argo CD syncs main.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  namespace: demo
  labels:
    app: checkout
spec:
  replicas: 2
  selector:
    matchLabels:
      app: checkout
  template:
    metadata:
      labels:
        app: checkout
    spec:
      containers:
        - name: checkout
          image: "registry.sandbox.local/demo/checkout:1.4.2"
          ports:
            - containerPort: 8080  # the app listens here
          env:
            - name: LOG_LEVEL
              value: 'info'
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              cpu: 500m
              memory: 256Mi  # sized from last quarter's load test
          readinessProbe:
            httpGet: {path: /healthz, port: 8080}
            periodSeconds: 5
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: checkout
  namespace: demo
spec:
  selector:
    app: checkout
  ports:
    - port: 8080
      targetPort: 8080
"""


def memory_limit(container: str, value: str) -> dict[str, Any]:
    """Return the strategic-merge patch that sets one container's memory limit."""
    limits = {"resources": {"limits": {"memory": value}}}
    return {"spec": {"template": {"spec": {"containers": [{"name": container, **limits}]}}}}
