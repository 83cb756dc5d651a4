"""moka-py's Rust backend: a PyO3 bridge over the ``moka`` crate (0.12.16)."""

from typing import Final

from moka_py_rust._cached import cached as cached
from moka_py_rust._native import MOKA_VERSION as MOKA_VERSION
from moka_py_rust._native import Moka as Moka
from moka_py_rust._native import __version__ as __version__
from moka_py_rust._native import key_hash as key_hash

__all__ = ["MOKA_VERSION", "Moka", "cached", "exact", "key_hash", "name", "priority"]

name: Final = "rust"
"""The backend's name, as used by ``MOKA_PY_BACKEND``."""

priority: Final = 20
"""Preferred over the pure-Python backend (10)."""

exact: Final = True
"""Makes moka's own eviction decisions (it is moka), keyed by the shared hash."""
