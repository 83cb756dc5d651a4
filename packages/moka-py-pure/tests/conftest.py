"""Fixtures for the pure backend's tests (helpers live in pure_helpers.py)."""

from __future__ import annotations

import pytest
from pure_helpers import FakeClock, Recorder


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def rec() -> Recorder:
    return Recorder()
