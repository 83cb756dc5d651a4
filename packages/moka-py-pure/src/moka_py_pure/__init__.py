"""moka-py's pure-Python backend: moka 0.12.16's caching algorithms, in Python.

This module is the backend object that ``moka_py`` loads through the ``moka_py.backends`` entry
point: it declares ``name``, ``priority``, ``exact`` and ``Moka``, and ``cached`` (``moka_py``'s
decorator with a faster hit path) when the core package ``moka_py`` is installed.
"""

from __future__ import annotations

from typing import Any

from ._cache import Moka

__all__ = ["Moka", "__version__", "exact", "name", "priority"]

__version__ = "1.0.0.dev0"

name = "pure"
"""The backend's name, as accepted by ``MOKA_PY_BACKEND``."""

priority = 10
"""Lower than the Rust backend (20): ``moka_py`` prefers Rust when both are installed."""

exact = True
"""Makes moka's eviction decisions and sends moka's listener events, given the same key hashes."""


def __getattr__(attr: str) -> Any:
    # ``cached`` needs moka_py, which this package does not depend on: built on first access.
    # (moka_py_rust/__init__.py has the same lazy import: neither package depends on the other.)
    if attr == "cached":
        try:
            # moka_py first: initialising it asks this module for `cached` (this function again),
            # which must not find ._cached half-imported.
            import moka_py  # noqa: F401
        except ModuleNotFoundError as exc:
            if (exc.name or "").partition(".")[0] != "moka_py":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute 'cached' ({exc})") from None
        from ._cached import cached

        globals()["cached"] = cached
        return cached
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
