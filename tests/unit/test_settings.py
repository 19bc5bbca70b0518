"""Settings people write as environment variables become the policy incidents run under."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from selfheal.model.policy import AnalyzerChoice, AutoApprovePolicy, RemediationMode
from selfheal.settings import Settings


def test_durations_and_lists_read_the_way_people_write_them(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SELFHEAL_REVIEW_TIMEOUT", "30m")
    monkeypatch.setenv("SELFHEAL_VERIFY_WINDOW", "90s")
    monkeypatch.setenv("SELFHEAL_ESCALATION_TIMEOUT", "2d")
    monkeypatch.setenv("SELFHEAL_APPROVERS", "alice, bob")
    monkeypatch.setenv("KUBECONFIG", "/etc/kube/config")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.review_timeout == timedelta(minutes=30)
    assert settings.verify_window == timedelta(seconds=90)
    assert settings.escalation_timeout == timedelta(days=2)
    assert settings.approvers == ["alice", "bob"]
    assert str(settings.kubeconfig) == "/etc/kube/config"


def test_namespace_overrides_pick_the_approval_policy_and_name_their_rule(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("SELFHEAL_AUTO_APPROVE", "never")
    monkeypatch.setenv("SELFHEAL_AUTO_APPROVE_NAMESPACES", "staging=always,production=never")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    staging = settings.incident_policy(None, "staging")
    assert staging.auto_approve == AutoApprovePolicy.ALWAYS
    assert staging.auto_approve_rule == "SELFHEAL_AUTO_APPROVE_NAMESPACES staging=always"
    other = settings.incident_policy(RemediationMode.DIRECT, "payments")
    assert other.auto_approve == AutoApprovePolicy.NEVER and other.mode == RemediationMode.DIRECT
    assert other.auto_approve_rule == "SELFHEAL_AUTO_APPROVE=never"


def test_a_malformed_override_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SELFHEAL_AUTO_APPROVE_NAMESPACES", "staging=sometimes")
    with pytest.raises(ValidationError, match="staging=sometimes"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_the_model_is_used_only_with_a_key_unless_forced(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert Settings(_env_file=None).analyzer_choice() == AnalyzerChoice.RULES  # type: ignore[call-arg]
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    assert Settings(_env_file=None).analyzer_choice() == AnalyzerChoice.MODEL  # type: ignore[call-arg]
    monkeypatch.setenv("SELFHEAL_ANALYZER", "rules")
    assert Settings(_env_file=None).analyzer_choice() == AnalyzerChoice.RULES  # type: ignore[call-arg]


def test_every_activity_slot_gets_a_thread_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("SELFHEAL_MAX_CONCURRENT_ACTIVITIES", "300")
    assert Settings(_env_file=None).activity_thread_count() == 300  # type: ignore[call-arg]
    monkeypatch.setenv("SELFHEAL_ACTIVITY_THREADS", "40")
    assert Settings(_env_file=None).activity_thread_count() == 40  # type: ignore[call-arg]


def test_the_guard_has_a_queue_of_its_own_next_to_the_incidents(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("SELFHEAL_TASK_QUEUE", "prod-eu")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.task_queue, settings.guard_task_queue()) == ("prod-eu", "prod-eu-guard")
