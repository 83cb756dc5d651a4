"""moka-py: a fast, thread-safe in-memory cache modelled on Rust's ``moka``.

``moka_py.Moka`` is the cache class of the selected backend (``rust`` when it
is installed and importable, else ``pure``; ``MOKA_PY_BACKEND=<name>`` forces
one), ``moka_py.cached`` is an ``lru_cache``-style decorator on top of it, and
``moka_py.cachedmethod`` its per-instance variant for methods.
``python -m moka_py`` shows which backend is active, self-checks it and times it.

``cached`` is the selected backend's own ``cached`` when the backend module
provides one (a faster implementation with identical behaviour), otherwise the
generic one in ``moka_py._cached``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moka_py import _selection
from moka_py._protocol import CacheProtocol, CacheStats, Cause, Policy
from moka_py._selection import AvailableBackend, BackendInfo, available_backends

__all__ = [
    "AvailableBackend",
    "BackendInfo",
    "CacheProtocol",
    "CacheStats",
    "Cause",
    "Moka",
    "Policy",
    "VERSION",
    "__version__",
    "available_backends",
    "backend",
    "cached",
    "cachedmethod",
]

__version__ = "1.0.0.dev0"
"""The version of the ``moka-py`` distribution."""

VERSION: str = __version__
"""An alias of ``__version__``: the name moka-py 0.5 exposes, kept for code written for it."""

_SELECTED: BackendInfo = _selection.select()


def backend() -> BackendInfo:
    """The selected backend: ``BackendInfo(name, version, module, priority, exact)``."""
    return _SELECTED


if TYPE_CHECKING:
    from moka_py._cached import cached, cachedmethod
    from moka_py._typing import Moka
else:
    Moka = _SELECTED.module.Moka

    def __getattr__(attr: str) -> Any:
        # ``cached`` is resolved on first use, not at import: a backend's own ``cached`` may import
        # ``moka_py`` itself, and asking for it while ``moka_py`` initialises would be circular.
        if attr == "cachedmethod":
            from moka_py._cached import cachedmethod as found
        elif attr == "cached":
            found = getattr(_SELECTED.module, "cached", None)
            if found is None:
                from moka_py._cached import cached as found
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
        globals()[attr] = found
        return found
