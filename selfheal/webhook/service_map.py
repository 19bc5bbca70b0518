"""The service map: which Kubernetes workload a PagerDuty service or JIRA component means."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from selfheal.model.alerts import DEFAULT_KIND, WORKLOAD_KINDS, Alert


class WorkloadRef(BaseModel):
    """One Kubernetes workload an outside alert refers to (a Deployment unless `kind` says)."""

    model_config = ConfigDict(extra="forbid")

    namespace: str = Field(min_length=1)
    deployment: str = Field(
        min_length=1,
        validation_alias=AliasChoices("workload", "deployment"),
        description="The workload's name (`workload:` or, for a Deployment, `deployment:`)",
    )
    kind: str = Field(default=DEFAULT_KIND, description="One of " + ", ".join(WORKLOAD_KINDS))
    cluster: str | None = Field(default=None, description="Unset: SELFHEAL_CLUSTER")

    @field_validator("kind", mode="before")
    @classmethod
    def _known_kind(cls, value: object) -> object:
        return Alert.known_kind(value)


class ServiceMap(BaseModel):
    """`{services: {"<pagerduty service or jira component>": {namespace, workload, kind,
    cluster}}}` (`deployment:` names a Deployment as before)."""

    model_config = ConfigDict(extra="forbid")

    services: dict[str, WorkloadRef] = Field(default_factory=dict)

    def lookup(self, *names: str | None) -> WorkloadRef | None:
        """The workload mapped to the first of `names` that has an entry, matched ignoring case."""
        by_name = {key.casefold(): ref for key, ref in self.services.items()}
        for name in names:
            if name and (ref := by_name.get(name.casefold())) is not None:
                return ref
        return None


class ServiceMapError(Exception):
    """The service map file is missing or malformed; the message names the file and the fault."""


def load_service_map(path: Path | None) -> ServiceMap:
    """Read the service map YAML at `path`; an empty map when no path is configured."""
    if path is None:
        return ServiceMap()
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as err:
        raise ServiceMapError(f"cannot read service map {path}: {err}") from err
    try:
        return ServiceMap.model_validate(data or {})
    except ValidationError as err:
        raise ServiceMapError(f"service map {path} is invalid: {err}") from err
