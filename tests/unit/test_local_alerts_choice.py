"""Who raises the local stack's alerts: real Prometheus and Alertmanager when installed (or
insisted on), the sandbox's monitor otherwise, and a running sandbox keeps its choice.

The binaries' presence is the one input replaced here (`missing_monitoring`); starting them
is tested on real processes in tests/e2e/test_metrics_loop.py and test_stack.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import selfheal_lab.local_stack as local_stack
from selfheal_lab.local_stack import LocalStack, StackError, StackInfo, StackPorts
from selfheal_lab.monitoring import INSTALL_COMMAND

MISSING = f"prometheus not found: install Debian's packages with `sudo {INSTALL_COMMAND}`"


def choose(tmp_path: Path, prometheus: bool | None, info: StackInfo | None = None) -> StackInfo:
    info = info or StackInfo()
    LocalStack(tmp_path, StackPorts.free())._choose_alerts(info, prometheus)
    return info


@pytest.mark.parametrize(
    ("installed", "asked", "source"),
    [
        (True, None, "prometheus"),
        (True, True, "prometheus"),
        (True, False, "sandbox-monitor"),
        (False, None, "sandbox-monitor"),
        (False, False, "sandbox-monitor"),
    ],
)
def test_the_real_ones_run_when_installed_unless_declined(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    installed: bool,
    asked: bool | None,
    source: str,
) -> None:
    monkeypatch.setattr(local_stack, "missing_monitoring", lambda: None if installed else MISSING)
    chosen = choose(tmp_path, asked).alerts
    assert chosen["source"] == source
    if not installed and asked is None:
        assert INSTALL_COMMAND in chosen["why"], (
            "the fallback does not say how to get the real ones"
        )


def test_insisting_without_them_fails_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_stack, "missing_monitoring", lambda: MISSING)
    with pytest.raises(StackError, match="apt-get install"):
        choose(tmp_path, True)


def test_a_running_sandbox_keeps_its_choice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_stack, "missing_monitoring", lambda: None)
    monkeypatch.setattr(local_stack, "pid_alive", lambda pid: pid is not None)
    recorded = StackInfo(pids={"sandbox": 1234}, alerts={"source": "prometheus", "why": "x"})
    assert choose(tmp_path, False, recorded).alerts["source"] == "prometheus"
    older = StackInfo(pids={"sandbox": 1234})  # recorded before there was a choice
    assert choose(tmp_path, None, older).alerts["source"] == "sandbox-monitor"
