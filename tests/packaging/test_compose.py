"""The compose stack's wiring, read from docker-compose.yml (no Docker engine runs here)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from selfheal.workflows.search import ALL_KEYS
from tests.packaging.env_names import (
    ROOT,
    TEMPORAL_ENVCONFIG,
    env_example_names,
    known_env_names,
    lab_env_names,
    settings_env_names,
)

SELFHEAL_SERVICES = ("worker", "webhook")
COMPOSE_KNOBS = {"POSTGRES_PASSWORD", "HOME"}
"""Interpolated variables that are not selfheal settings (documented in docs/operations.md)."""

_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def env_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.partition("=")[::2] for item in environment)
    return {key: str(value) for key, value in environment.items()}


def depends(service: dict[str, Any]) -> dict[str, str]:
    return {name: spec["condition"] for name, spec in (service.get("depends_on") or {}).items()}


def published(service: dict[str, Any]) -> set[int]:
    return {int(str(port).rsplit(":", 2)[-2]) for port in service.get("ports", [])}


def test_stack_has_the_documented_services(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {
        "postgresql",
        "temporal",
        "temporal-admin-tools",
        "temporal-ui",
        "worker",
        "webhook",
    }
    assert services["temporal"]["image"].startswith("temporalio/auto-setup:")
    assert services["temporal-admin-tools"]["image"].startswith("temporalio/admin-tools:")
    assert services["temporal-ui"]["image"].startswith("temporalio/ui:")
    assert services["postgresql"]["image"].startswith("postgres:")
    for name in SELFHEAL_SERVICES:
        assert services[name]["build"] == "."
        assert services[name]["command"] == [name]


def test_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if "build" in service:
            continue
        tag = service["image"].rpartition(":")[2]
        assert tag and tag != "latest" and "/" not in tag, f"{name} image is not pinned"


def test_temporal_runs_on_postgresql(services: dict[str, dict[str, Any]]) -> None:
    temporal = services["temporal"]
    env = env_of(temporal)
    assert env["DB"].startswith("postgres")
    assert env["POSTGRES_SEEDS"] == "postgresql"
    assert depends(temporal) == {"postgresql": "service_healthy"}
    assert env["POSTGRES_PWD"] == env_of(services["postgresql"])["POSTGRES_PASSWORD"]


def test_dependencies_start_in_order(services: dict[str, dict[str, Any]]) -> None:
    assert depends(services["temporal-admin-tools"]) == {"temporal": "service_healthy"}
    assert depends(services["temporal-ui"]) == {"temporal": "service_healthy"}
    for name in SELFHEAL_SERVICES:
        assert depends(services[name]) == {"temporal-admin-tools": "service_completed_successfully"}
    assert services["temporal-admin-tools"]["restart"] == "no"


def test_long_running_services_have_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    for name in ("postgresql", "temporal", "worker", "webhook"):
        check = services[name]["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
    assert "9464/metrics" in " ".join(services["worker"]["healthcheck"]["test"])
    assert "8000/healthz" in " ".join(services["webhook"]["healthcheck"]["test"])


def test_ports_match_the_settings(services: dict[str, dict[str, Any]]) -> None:
    assert published(services["temporal"]) == {7233}
    assert published(services["temporal-ui"]) == {8080}
    assert published(services["webhook"]) == {8000}
    assert published(services["worker"]) == {9464}
    assert "ports" not in services["postgresql"]
    assert env_of(services["webhook"])["SELFHEAL_WEBHOOK_PORT"] == "8000"
    assert env_of(services["webhook"])["SELFHEAL_WEBHOOK_HOST"] == "0.0.0.0"
    assert env_of(services["worker"])["SELFHEAL_METRICS_PORT"] == "9464"


def test_database_lives_in_a_named_volume(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    volume = services["postgresql"]["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]


def test_admin_container_registers_every_search_attribute_as_keyword(
    services: dict[str, dict[str, Any]],
) -> None:
    admin = services["temporal-admin-tools"]
    names = env_of(admin)["INCIDENT_SEARCH_ATTRIBUTES"].split()
    assert names == [key.name for key in ALL_KEYS]
    script = "\n".join(admin["command"])
    assert "for name in $$INCIDENT_SEARCH_ATTRIBUTES" in script
    assert "--type Keyword" in script
    # Idempotent: only attributes missing from the list are created.
    assert "search-attribute list" in script and "already registered" in script


def test_selfheal_containers_only_set_known_settings(
    services: dict[str, dict[str, Any]],
) -> None:
    known = known_env_names()
    for name in SELFHEAL_SERVICES:
        unknown = set(env_of(services[name])) - known
        assert not unknown, f"{name} sets names no selfheal setting reads: {unknown}"


def test_interpolated_variables_are_settings_or_documented_knobs() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(_INTERPOLATION.findall(text))
    assert used - known_env_names() - COMPOSE_KNOBS == set()


def test_env_example_names_only_real_settings() -> None:
    names = env_example_names((ROOT / ".env.example").read_text())
    assert len(names) == len(set(names)), "a name is listed twice"
    assert set(names) - known_env_names() - lab_env_names() == set()


def test_env_example_documents_every_setting() -> None:
    names = set(env_example_names((ROOT / ".env.example").read_text()))
    missing = (settings_env_names() | lab_env_names()) - names
    assert not missing, f".env.example lacks {sorted(missing)}"
    assert {"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY"} <= names


def test_settings_env_names_cover_aliases_and_prefix() -> None:
    names = settings_env_names()
    assert {"KUBECONFIG", "GITHUB_TOKEN", "ANTHROPIC_API_KEY", "SELFHEAL_MODE"} <= names
    assert "SELFHEAL_KUBECONFIG" not in names
    assert not names & TEMPORAL_ENVCONFIG


def test_dockerfile_runs_selfheal_as_non_root() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = [line.split()[1] for line in text.splitlines() if line.startswith("FROM ")]
    assert stages and all(image.startswith("python:3.11-slim") for image in stages)
    runtime = text.rsplit("\nFROM ", 1)[1]
    user = re.search(r"^USER (\S+)", runtime, re.M)
    assert user and not user[1].startswith(("0", "root"))
    assert 'ENTRYPOINT ["selfheal"]' in runtime
    assert "pip install ." in text
    assert "SELFHEAL_WEBHOOK_HOST=0.0.0.0" in runtime


def test_dockerignore_keeps_the_build_context_to_the_package() -> None:
    lines = (ROOT / ".dockerignore").read_text().split()
    assert lines[lines.index("**") + 1 :][:3] == ["!pyproject.toml", "!README.md", "!selfheal/"]
