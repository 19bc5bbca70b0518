"""Failure scenarios that break a workload on purpose, on the sandbox or a real cluster."""

from selfheal.chaos.injection import ChaosRefused, Injection, clear, inject, injected
from selfheal.chaos.scenarios import SCENARIOS, Scenario, get_scenario, list_scenarios

__all__ = [
    "SCENARIOS",
    "ChaosRefused",
    "Injection",
    "Scenario",
    "clear",
    "get_scenario",
    "inject",
    "injected",
    "list_scenarios",
]
