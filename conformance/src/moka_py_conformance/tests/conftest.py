"""Fixtures shared by the suite's tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def exact_backend(backend: Any) -> Any:
    """The backend under test, for tests of moka-specific decisions; skips backends not claiming ``exact``."""
    if not getattr(backend, "exact", False):
        pytest.skip(f"backend {backend.name!r} does not claim moka-identical decisions (exact=False)")
    return backend
