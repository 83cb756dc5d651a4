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


@pytest.fixture(scope="session")
def reference(backend: Any) -> Any:
    """The pure backend's ``Moka``, the reference of the differential tier; skips backends that do not
    claim ``exact``, and the pure backend itself."""
    if not getattr(backend, "exact", False):
        pytest.skip(f"backend {backend.name!r} does not claim exact (moka-identical) decisions")
    import moka_py_pure

    if backend is moka_py_pure:
        pytest.skip("the pure backend is the reference itself")
    return moka_py_pure.Moka
