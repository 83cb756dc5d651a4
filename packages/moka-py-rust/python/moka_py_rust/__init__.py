"""moka-py's Rust backend: a PyO3 bridge over the ``moka`` crate (0.12.16).

This module is a moka-py backend (entry point group ``moka_py.backends``): it
exposes ``name``, ``priority``, ``exact``, ``Moka``, ``__version__`` and its own
``cached`` (the generic decorator with a native hit path, when the core
package ``moka_py`` is installed). Use it through ``moka_py``
(``from moka_py import Moka``), or directly.
"""

from typing import Any

from moka_py_rust._native import MOKA_VERSION, Moka, __version__, key_hash

__all__ = ["MOKA_VERSION", "Moka", "__version__", "cached", "exact", "key_hash", "name", "priority"]

name = "rust"
"""The backend's name, as used by ``MOKA_PY_BACKEND``."""

priority = 20
"""Preferred over the pure-Python backend (10)."""

exact = True
"""Makes moka's own eviction decisions (it *is* moka), keyed by the shared hash."""


def __getattr__(attr: str) -> Any:
    # ``cached`` is built on moka_py's generic decorator, which this package does not depend on:
    # imported on first access (moka_py first: initialising it may ask this module for `cached`).
    # (moka_py_pure/__init__.py has the same lazy import: neither package depends on the other.)
    if attr == "cached":
        try:
            import moka_py  # noqa: F401
        except ModuleNotFoundError as exc:
            if (exc.name or "").partition(".")[0] != "moka_py":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute 'cached' ({exc})") from None
        from moka_py_rust._cached import cached

        globals()["cached"] = cached
        return cached
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
