"""Each activity is declared once (selfheal/contracts/) and the worker registers exactly those."""

from __future__ import annotations

import importlib
import pkgutil
import typing
from collections.abc import Callable
from typing import Any

from temporalio.activity import _Definition
from temporalio.client import Client

import selfheal.contracts
from selfheal.contracts.spec import ActivityCall
from selfheal.settings import Settings
from selfheal.workers.worker import incident_activities


def declared_specs() -> dict[str, ActivityCall[Any]]:
    """Every ActivityCall in the contract modules, by activity name."""
    specs: dict[str, ActivityCall[Any]] = {}
    for module_info in pkgutil.iter_modules(selfheal.contracts.__path__):
        module = importlib.import_module(f"selfheal.contracts.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, ActivityCall):
                earlier = specs.setdefault(value.name, value)
                assert earlier.result_type is value.result_type, value.name
    return specs


def registered(activities: list[Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """The worker's activities by the name each is registered under."""
    return {_Definition.must_from_callable(fn).name: fn for fn in activities}


def test_the_worker_registers_exactly_the_declared_activities():
    client = Client.__new__(Client)  # the activities only keep it; nothing connects
    worker_activities = registered(incident_activities(client, Settings(_env_file=None)))
    assert set(worker_activities) == set(declared_specs())


def test_each_implementation_returns_its_specs_result_type():
    client = Client.__new__(Client)
    worker_activities = registered(incident_activities(client, Settings(_env_file=None)))
    for name, spec in declared_specs().items():
        returned = typing.get_type_hints(worker_activities[name])["return"]
        assert returned is spec.result_type, f"{name} returns {returned}"
