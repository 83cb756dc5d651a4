"""moka-py's Rust backend: a PyO3 bridge over the ``moka`` crate (0.12.16).

This module is a moka-py backend (entry point group ``moka_py.backends``): it
exposes ``name``, ``priority``, ``exact``, ``Moka``, ``__version__`` and its own
``cached`` (the generic decorator with a native hit path). Use it
through ``moka_py`` (``from moka_py import Moka``), or directly.
"""

from moka_py_rust._cached import cached
from moka_py_rust._native import MOKA_VERSION, Moka, __version__, key_hash

__all__ = ["MOKA_VERSION", "Moka", "__version__", "cached", "exact", "key_hash", "name", "priority"]

name = "rust"
"""The backend's name, as used by ``MOKA_PY_BACKEND``."""

priority = 20
"""Preferred over the pure-Python backend (10)."""

exact = True
"""Makes moka's own eviction decisions (it *is* moka), keyed by the shared hash."""
