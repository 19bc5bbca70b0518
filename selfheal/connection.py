"""Connecting to Temporal: one place that builds the client every process uses."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfig
from temporalio.runtime import Runtime


async def connect(runtime: Runtime | None = None, target_host: str | None = None) -> Client:
    """Connect with Temporal's own environment configuration and the pydantic data converter.

    TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS settings and profiles are
    read by the SDK (temporalio.envconfig); the default is the local dev server.
    """
    config = ClientConfig.load_client_connect_config()
    config.setdefault("target_host", "127.0.0.1:7233")
    if target_host:
        config["target_host"] = target_host
    return await Client.connect(**config, data_converter=pydantic_data_converter, runtime=runtime)
