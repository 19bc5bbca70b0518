"""The environment variable names selfheal reads, derived from the Settings class itself."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices

from selfheal.settings import Settings
from selfheal_lab.settings import LabSettings

TEMPORAL_ENVCONFIG = frozenset(
    {
        "TEMPORAL_ADDRESS",
        "TEMPORAL_NAMESPACE",
        "TEMPORAL_API_KEY",
        "TEMPORAL_PROFILE",
        "TEMPORAL_CONFIG_FILE",
        "TEMPORAL_TLS",
        "TEMPORAL_TLS_CLIENT_CERT_PATH",
        "TEMPORAL_TLS_CLIENT_CERT_DATA",
        "TEMPORAL_TLS_CLIENT_KEY_PATH",
        "TEMPORAL_TLS_CLIENT_KEY_DATA",
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
        "TEMPORAL_TLS_SERVER_CA_CERT_DATA",
        "TEMPORAL_TLS_SERVER_NAME",
        "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION",
        "TEMPORAL_CODEC_ENDPOINT",
        "TEMPORAL_CODEC_AUTH",
    }
)
"""What the Temporal SDK's environment configuration (temporalio.envconfig) reads."""

ROOT = Path(__file__).resolve().parents[2]


def settings_env_names(settings: type[Settings] = Settings) -> set[str]:
    """Every env name a settings class reads: SELFHEAL_<FIELD>, or the field's own alias."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for field_name, field in settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice).upper() for choice in alias.choices)
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def known_env_names() -> set[str]:
    """Names a selfheal process understands: its settings plus Temporal's own."""
    return settings_env_names() | TEMPORAL_ENVCONFIG


def lab_env_names() -> set[str]:
    """Names only the lab reads (`selfheal up`'s sandbox ports), never a production process."""
    return settings_env_names(LabSettings) - settings_env_names()


_ASSIGNMENT = re.compile(r"^\s*#?\s*([A-Z][A-Z0-9_]*)=")


def env_example_names(text: str) -> list[str]:
    """Names assigned in an env file, including commented-out `# NAME=default` lines."""
    return [match[1] for line in text.splitlines() if (match := _ASSIGNMENT.match(line))]
