"""Editing manifests: the fix changes the patched lines and nothing else, byte for byte."""

from __future__ import annotations

import pytest

from selfheal.activities.manifests import (
    ManifestEditError,
    apply_patch,
    holds_workload,
    unified_diff,
)
from selfheal_lab.sandbox.kube.demo import baseline_manifests
from tests.github.samples import CHECKOUT, SERVICE, memory_limit


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    """Return (old, new) for each line that differs; both texts must keep their line count."""
    return [(before_line, after_line) for _, before_line, after_line in changes(before, after)]


def changes(before: str, after: str) -> list[tuple[int, str, str]]:
    """Return (line index, old, new) for each line that differs, same line count required."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(old) == len(new)
    return [(i, a, b) for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]


def test_memory_fix_changes_one_line_and_keeps_its_comment() -> None:
    patched = apply_patch(
        CHECKOUT, memory_limit("checkout", "512Mi"), namespace="demo", name="checkout"
    )

    assert changed_lines(CHECKOUT, patched) == [
        (
            "              memory: 256Mi  # sized from last quarter's load test\n",
            "              memory: 512Mi  # sized from last quarter's load test\n",
        )
    ]
    # Every other line, comments and quoting included, is byte-identical.
    assert patched.replace("memory: 512Mi", "memory: 256Mi") == CHECKOUT


def test_quoted_value_keeps_its_quotes() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "checkout", "image": "x:1"}]}}}}
    patched = apply_patch(CHECKOUT, patch, namespace="demo", name="checkout")

    assert changed_lines(CHECKOUT, patched) == [
        (
            '          image: "registry.sandbox.local/demo/checkout:1.4.2"\n',
            '          image: "x:1"\n',
        )
    ]


def test_env_merges_by_name_and_appends_new_variables() -> None:
    env = [{"name": "LOG_LEVEL", "value": "debug"}, {"name": "GOMEMLIMIT", "value": "400MiB"}]
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "checkout", "env": env}]}}}}
    patched = apply_patch(CHECKOUT, patch, namespace="demo", name="checkout")

    diff = unified_diff("d.yaml", CHECKOUT, patched)
    removed = [line for line in diff.splitlines() if line.startswith("-") and "---" not in line]
    added = [line for line in diff.splitlines() if line.startswith("+") and "+++" not in line]
    assert removed == ["-              value: 'info'"]
    assert added == [
        "+              value: 'debug'",
        "+            - name: GOMEMLIMIT",
        "+              value: 400MiB",
    ]


def test_replicas_and_null_deletes_a_key() -> None:
    patch = {"spec": {"replicas": 4, "template": {"spec": {"containers": [
        {"name": "checkout", "readinessProbe": {"periodSeconds": None}}
    ]}}}}  # fmt: skip
    patched = apply_patch(CHECKOUT, patch, namespace="demo", name="checkout")

    assert "  replicas: 4\n" in patched
    assert "periodSeconds" not in patched
    assert len(CHECKOUT.splitlines()) - len(patched.splitlines()) == 1


def test_multi_document_file_edits_only_the_named_deployment() -> None:
    other = CHECKOUT.replace("checkout", "payments")
    text = f"# all of the shop\n---\n{SERVICE}---\n{other}---\n{CHECKOUT}...\n"
    patched = apply_patch(text, memory_limit("checkout", "1Gi"), namespace="demo", name="checkout")

    [(index, _, new_line)] = changes(text, patched)
    assert new_line == "              memory: 1Gi    # sized from last quarter's load test\n"
    assert index > len(f"# all of the shop\n---\n{SERVICE}---\n{other}".splitlines())
    assert holds_workload(text, "demo", "payments")
    assert not holds_workload(text, "other-namespace", "payments")


def test_kubectl_style_indentation_survives() -> None:
    text = (
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "    name: web   # four-space maps\n"
        "spec:\n"
        "    replicas:   2\n"
        "    template:\n"
        "        spec:\n"
        "            containers:\n"
        "            - name: web\n"
        "              image: nginx\n"
        "              resources:\n"
        '                limits: {memory: "64Mi"}'
    )
    patched = apply_patch(text, memory_limit("web", "128Mi"), namespace="any", name="web")

    assert patched.splitlines()[:-1] == text.splitlines()[:-1]
    assert patched.splitlines()[-1] == '                limits: {memory: "128Mi"}'
    assert "    replicas:   2\n" in patched


def test_a_file_without_the_deployment_is_refused() -> None:
    with pytest.raises(ManifestEditError, match="no Deployment demo/checkout"):
        apply_patch(SERVICE, memory_limit("checkout", "1Gi"), namespace="demo", name="checkout")


def test_diff_is_empty_when_nothing_changes() -> None:
    assert unified_diff("a.yaml", CHECKOUT, CHECKOUT) == ""


def test_windows_line_endings_survive() -> None:
    crlf = CHECKOUT.replace("\n", "\r\n")
    patched = apply_patch(
        crlf, memory_limit("checkout", "512Mi"), namespace="demo", name="checkout"
    )

    assert changed_lines(crlf, patched) == [
        (
            "              memory: 256Mi  # sized from last quarter's load test\r\n",
            "              memory: 512Mi  # sized from last quarter's load test\r\n",
        )
    ]


def test_a_statefulset_manifest_is_edited_by_its_kind_and_a_deployment_patch_refused() -> None:
    ledger = baseline_manifests()["apps/ledger/statefulset.yaml"]
    patch = memory_limit("ledger", "256Mi")
    patched = apply_patch(ledger, patch, namespace="demo", name="ledger", kind="StatefulSet")

    assert changed_lines(ledger, patched) == [
        (
            "              memory: 128Mi  # the working set needs about 90Mi\n",
            "              memory: 256Mi  # the working set needs about 90Mi\n",
        )
    ]
    assert holds_workload(ledger, "demo", "ledger", "StatefulSet")
    assert not holds_workload(ledger, "demo", "ledger")
    with pytest.raises(ManifestEditError, match="no Deployment demo/ledger"):
        apply_patch(ledger, patch, namespace="demo", name="ledger")
