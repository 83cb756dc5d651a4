"""Find the installed backends and choose the one ``moka_py`` exposes.

Backends are entry points in the ``moka_py.backends`` group; each one loads an
object (normally a module) with ``name``, ``priority``, ``exact`` and ``Moka``
attributes (see :class:`moka_py._protocol.Backend`).  The choice is made once,
when ``moka_py`` is first imported:

* ``MOKA_PY_BACKEND=<name>`` forces the backend whose entry point has that name.
  If it is not installed, or it fails to import, or it is not a valid backend,
  ``import moka_py`` raises :class:`ImportError` naming the installed backends
  (chaining the original exception).  There is no fallback to another backend.
* Otherwise every installed backend is imported, and the valid one with the
  highest ``priority`` wins (ties broken by name).  A backend that fails to
  import is skipped; :func:`available_backends` and ``python -m moka_py`` show
  why.  If none imports, :class:`ImportError` lists what was tried.
"""

from __future__ import annotations

import os
import sys
import threading
from importlib import metadata
from types import ModuleType
from typing import Any, NamedTuple

__all__ = [
    "ENV_VAR",
    "GROUP",
    "AvailableBackend",
    "BackendInfo",
    "Candidate",
    "available_backends",
    "discover",
    "select_backend",
]

GROUP = "moka_py.backends"
"""The entry-point group that backends register in."""

ENV_VAR = "MOKA_PY_BACKEND"
"""The environment variable that forces a backend by its entry-point name."""


class BackendInfo(NamedTuple):
    """The backend ``moka_py`` selected, as returned by :func:`moka_py.backend`.

    ``module`` is the object the entry point loaded (normally the backend's
    module); ``module.Moka`` is ``moka_py.Moka``.
    """

    name: str
    version: str
    module: ModuleType
    priority: int
    exact: bool


class AvailableBackend(NamedTuple):
    """One installed backend, as listed by :func:`moka_py.available_backends`.

    ``priority`` is ``None`` when the backend could not be imported;
    ``error`` then says why (``"ExceptionType: message"``), else it is ``None``.
    ``target`` is the entry point's value (the module it loads).
    """

    name: str
    priority: int | None
    importable: bool
    error: str | None
    target: str


class Candidate:
    """An installed entry point and the outcome of loading it (loaded at most once)."""

    __slots__ = ("_entry_point", "_exception", "_info", "_loaded", "name", "target")

    def __init__(self, entry_point: metadata.EntryPoint) -> None:
        self._entry_point = entry_point
        self.name: str = entry_point.name
        self.target: str = entry_point.value
        self._loaded = False
        self._info: BackendInfo | None = None
        self._exception: BaseException | None = None

    def load(self) -> BackendInfo:
        """Import the backend and validate it; raise the (cached) failure if it is unusable."""
        if not self._loaded:
            try:
                self._info = _validate(self.name, self._entry_point, self._entry_point.load())
            except Exception as exc:  # any failure makes the backend unusable, not fatal
                self._exception = exc
            self._loaded = True
        if self._info is None:
            assert self._exception is not None
            raise self._exception
        return self._info

    @property
    def error(self) -> str | None:
        """``"ExceptionType: message"`` of the load failure, or ``None`` (call :meth:`load` first)."""
        exc = self._exception
        return None if exc is None else f"{type(exc).__name__}: {exc}"

    def describe(self) -> AvailableBackend:
        """Load the backend if needed and summarise the outcome."""
        try:
            info = self.load()
        except Exception:
            return AvailableBackend(self.name, None, False, self.error, self.target)
        return AvailableBackend(self.name, info.priority, True, None, self.target)


def _validate(name: str, entry_point: metadata.EntryPoint, obj: Any) -> BackendInfo:
    """Check that ``obj`` looks like a backend and build its :class:`BackendInfo`."""
    where = f"entry point {name!r} ({entry_point.value}) in group {GROUP!r}"
    missing = [attr for attr in ("name", "priority", "exact", "Moka") if not hasattr(obj, attr)]
    if missing:
        raise ImportError(f"{where} is not a moka-py backend: it has no {', '.join(missing)} attribute")
    if obj.name != name:
        raise ImportError(f"{where} loads a backend whose name is {obj.name!r}, not {name!r}")
    if not isinstance(obj.priority, int) or isinstance(obj.priority, bool):
        raise ImportError(f"{where}: priority must be an int, not {type(obj.priority).__name__}")
    if not isinstance(obj.exact, bool):
        raise ImportError(f"{where}: exact must be a bool, not {type(obj.exact).__name__}")
    if not isinstance(obj.Moka, type):
        raise ImportError(f"{where}: Moka must be a class, not {type(obj.Moka).__name__}")
    version = getattr(obj, "__version__", None)
    if not isinstance(version, str):
        dist = getattr(entry_point, "dist", None)  # Python 3.10+
        version = getattr(dist, "version", None) or "unknown"
    return BackendInfo(obj.name, version, obj, obj.priority, obj.exact)


def discover() -> list[metadata.EntryPoint]:
    """The installed entry points of :data:`GROUP`, first one per name (sys.path order)."""
    if sys.version_info >= (3, 10):
        found = list(metadata.entry_points(group=GROUP))
    else:  # Python 3.9 returns a dict of groups
        found = list(metadata.entry_points().get(GROUP, ()))
    unique: dict[str, metadata.EntryPoint] = {}
    for entry_point in found:
        unique.setdefault(entry_point.name, entry_point)
    return list(unique.values())


def _names(candidates: list[Candidate]) -> str:
    return ", ".join(sorted(c.name for c in candidates)) or "none"


def select_backend(candidates: list[Candidate], forced: str | None) -> BackendInfo:
    """Choose a backend among ``candidates``; ``forced`` is the requested name or ``None``.

    Raises :class:`ImportError` as described in the module docstring.
    """
    if forced:
        for candidate in candidates:
            if candidate.name == forced:
                try:
                    return candidate.load()
                except Exception as exc:
                    raise ImportError(
                        f"{ENV_VAR}={forced!r}: the moka-py backend {forced!r} failed to import "
                        f"({candidate.error}); installed backends: {_names(candidates)}"
                    ) from exc
        raise ImportError(
            f"{ENV_VAR}={forced!r}: no moka-py backend named {forced!r} is installed; "
            f"installed backends: {_names(candidates)}"
        )
    usable: list[BackendInfo] = []
    failures: list[str] = []
    for candidate in candidates:
        try:
            usable.append(candidate.load())
        except Exception:
            failures.append(f"{candidate.name} ({candidate.error})")
    if usable:
        return max(usable, key=lambda info: (info.priority, info.name))
    if not candidates:
        raise ImportError(
            f"no moka-py backend is installed (the entry-point group {GROUP!r} is empty); "
            "install moka-py-pure or moka-py-rust"
        )
    raise ImportError("no moka-py backend could be imported; tried: " + "; ".join(failures))


_CANDIDATES: list[Candidate] = []
_LOCK = threading.Lock()


def select() -> BackendInfo:
    """Discover the installed backends and choose one, honouring :data:`ENV_VAR`."""
    _CANDIDATES[:] = [Candidate(ep) for ep in discover()]
    forced = os.environ.get(ENV_VAR, "").strip() or None
    return select_backend(_CANDIDATES, forced)


def available_backends() -> list[AvailableBackend]:
    """Every backend installed when ``moka_py`` was imported, best first.

    Backends that were not imported during selection (because another one was
    forced) are imported now.  Importable backends come first, by descending
    priority; the ones that failed follow, by name.
    """
    with _LOCK:
        listed = [candidate.describe() for candidate in _CANDIDATES]
    return sorted(listed, key=lambda b: (b.priority is None, -(b.priority or 0), b.name))
