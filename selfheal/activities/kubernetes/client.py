"""The connection to the cluster, and how its failures become errors the workflow understands."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from temporalio.exceptions import ApplicationError

from selfheal.settings import Settings

REQUEST_TIMEOUT = (5.0, 30.0)
"""Connect and read timeouts of every API call: a hung apiserver must not hang the activity."""

NOT_CONFIGURED = "no Kubernetes cluster configured (set KUBECONFIG or run in-cluster)"


def build_api_client(settings: Settings, cluster: str | None = None) -> client.ApiClient:
    """Return an ApiClient for `cluster` (default: SELFHEAL_CLUSTER): the in-cluster service
    account or the configured kubeconfig for the default cluster, the kubeconfig context
    SELFHEAL_CLUSTERS names for any other."""
    configuration = client.Configuration()
    name = cluster or settings.cluster
    contexts = settings.cluster_contexts()
    if name not in contexts:
        raise unknown_cluster(name, settings)
    default = name == settings.cluster
    try:
        if default and settings.in_cluster:
            config.load_incluster_config(client_configuration=configuration)
        elif settings.kubeconfig is not None:
            config.load_kube_config(
                config_file=str(settings.kubeconfig),
                context=contexts[name],
                client_configuration=configuration,
                persist_config=False,
            )
        else:
            raise not_configured()
    except (ConfigException, OSError) as exc:
        raise ApplicationError(
            f"cannot load the Kubernetes configuration: {exc}",
            type="ClusterNotConfigured",
            non_retryable=True,
        ) from exc
    # Many activities share one client on the worker's thread pool.
    configuration.connection_pool_maxsize = max(configuration.connection_pool_maxsize or 0, 32)
    return client.ApiClient(configuration)


def unknown_cluster(name: str, settings: Settings) -> ApplicationError:
    """Return the error for a cluster this worker has no connection for."""
    known = ", ".join(settings.cluster_contexts())
    return ApplicationError(
        f"cluster {name} is not one this worker reaches (known: {known}; add it to "
        "SELFHEAL_CLUSTERS as name=kubeconfig-context)",
        type="UnknownCluster",
        non_retryable=True,
    )


def not_configured() -> ApplicationError:
    """Return the error every activity raises when no cluster is configured."""
    return ApplicationError(NOT_CONFIGURED, type="ClusterNotConfigured", non_retryable=True)


class ClusterConnection:
    """One cluster's ApiClient, built on first use from the settings (or given ready-made)."""

    def __init__(
        self,
        settings: Settings | None = None,
        api_client: client.ApiClient | None = None,
        cluster: str | None = None,
    ) -> None:
        self._settings = settings
        self._api_client = api_client
        self._cluster = cluster
        self._lock = threading.Lock()

    @property
    def api_client(self) -> client.ApiClient:
        return self.connect()

    def connect(self) -> client.ApiClient:
        """Return the shared ApiClient, building it on first use; ClusterNotConfigured if none."""
        if self._api_client is None:
            with self._lock:
                if self._api_client is None:
                    if self._settings is None:
                        raise not_configured()
                    self._api_client = build_api_client(self._settings, self._cluster)
        return self._api_client

    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api_client)

    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api_client)

    def batch(self) -> client.BatchV1Api:
        return client.BatchV1Api(self.api_client)


class Clusters:
    """Every cluster the worker reaches, each with its own connection, by name.

    An empty name is the default cluster (requests recorded before clusters had names).
    """

    def __init__(self, settings: Settings, api_client: client.ApiClient | None = None) -> None:
        self._settings = settings
        self._connections = {
            name: ClusterConnection(
                settings, api_client if name == settings.cluster else None, name
            )
            for name in settings.cluster_contexts()
        }

    def __getitem__(self, name: str) -> ClusterConnection:
        """The connection to cluster `name`; UnknownCluster (before any request) if none."""
        connection = self._connections.get(name or self._settings.cluster)
        if connection is None:
            raise unknown_cluster(name, self._settings)
        return connection


def is_not_found(exc: BaseException) -> bool:
    """True when `exc` is the apiserver answering 404."""
    return isinstance(exc, ApiException) and exc.status == 404


@contextmanager
def kube_errors(what: str) -> Iterator[None]:
    """Turn client failures while doing `what` into typed ApplicationErrors.

    403/401 and refused requests (400, 422) are permanent; 5xx, 409, 429, timeouts and
    connection errors are retried by Temporal.
    """
    try:
        yield
    except ApplicationError:
        raise
    except ApiException as exc:
        raise api_error(what, exc) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise ApplicationError(
            f"Kubernetes API unreachable while {what}: {exc}", type="KubernetesUnavailable"
        ) from exc


def api_error(what: str, exc: ApiException) -> ApplicationError:
    """Return the ApplicationError for an apiserver answer `exc` received while doing `what`."""
    status = exc.status or 0
    detail = f"{status} {exc.reason or ''}".strip()
    if status == 403:
        return ApplicationError(
            f"forbidden while {what} ({detail}): grant selfheal's service account this permission",
            type="KubernetesForbidden",
            non_retryable=True,
        )
    if status == 401:
        return ApplicationError(
            f"unauthorized while {what} ({detail}): the cluster credentials are not accepted",
            type="KubernetesUnauthorized",
            non_retryable=True,
        )
    if status in (409, 429) or status >= 500 or status == 0:
        return ApplicationError(
            f"Kubernetes API failed while {what} ({detail})", type="KubernetesUnavailable"
        )
    return ApplicationError(
        f"Kubernetes refused {what} ({detail}): {api_message(exc)}",
        type="KubernetesRejected",
        non_retryable=True,
    )


def api_message(exc: ApiException) -> str:
    """Return the apiserver's Status message from an error body, or the raw body."""
    body = exc.body or ""
    try:
        message = json.loads(body).get("message")
    except (ValueError, AttributeError):
        message = None
    return str(message or body)[:500]
