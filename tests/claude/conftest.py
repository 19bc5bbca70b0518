"""Fixture: a fresh fake Anthropic API per test, served over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from selfheal_lab.sandbox.anthropic_fake import FakeAnthropic
from selfheal_lab.sandbox.serving import ServedApp
from tests.claude.fake_model import FakeModel


@pytest.fixture
def model() -> Iterator[FakeModel]:
    """A fresh fake Anthropic API, served on its own port for one test."""
    fake = FakeAnthropic()
    with ServedApp(fake.app) as served:
        yield FakeModel(fake, served)
