"""Adapters that give every benchmarked library one uniform shape.

A *subject* is one library configured one way (``moka-py rust [tiny_lfu]``,
``cachetools LRUCache``, ...).  Its adapter knows how to build a cache, fill it,
and hand out the **library's own callables** for each operation: the timed loops
call ``cache.get`` / ``cache.set`` / ``cache[k] = v`` directly, never through an
adapter method, so no adapter cost is measured.  An adapter returns ``None`` for
an operation its library lacks (e.g. ``get_with`` on cachetools); that subject
is then simply absent from that operation's results.

This module imports only the standard library at import time (peers are
imported lazily, inside the adapters), so it also loads inside the virtual
environment that holds moka-py 0.5.0, where none of the peers are installed.
"""

from __future__ import annotations

import functools
import importlib
import os
import threading
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

__all__ = [
    "INIT",
    "SUBJECTS",
    "VALUE",
    "Adapter",
    "Call",
    "SubjectSpec",
    "load_adapter",
]

VALUE: int = 1_000_001
"""The one small value every timed ``set`` stores (shared, so no subject pays for creating it)."""


def INIT() -> int:  # noqa: N802 - reads as a constant: the initializer every get_with receives
    """The initializer given to every ``get_with`` (returns :data:`VALUE`)."""
    return VALUE


@dataclass(frozen=True)
class Call:
    """How a timed loop invokes one operation of one subject.

    ``kind`` picks the loop shape: ``"call1"`` runs ``target(k)``, ``"call2"`` runs
    ``target(k, arg)``, ``"setitem"`` runs ``target[k] = arg``.
    """

    kind: str
    target: Any
    arg: Any = None


class Adapter:
    """The uniform face of one subject.  Subclasses override what their library supports."""

    label: str = "?"
    library: str = "?"
    family: str = "?"
    """Eviction family: ``"tiny_lfu"``, ``"lru"``, ``"lfu"``, ``"ttl"`` or ``"none"``."""

    def version(self) -> str:
        """The library's version string."""
        return "?"

    def new_cache(self, capacity: int | None, ttl: float | None = None) -> Any | None:
        """A new cache bounded to ``capacity`` entries (``None``: this subject has no such cache)."""
        return None

    def fill(self, cache: Any, keys: Iterable[Hashable], ttl: float | None = None) -> None:
        """Insert ``key -> key`` for every key (the natural, untimed way for this library)."""
        for k in keys:
            cache[k] = k

    def settle(self, cache: Any) -> None:
        """Finish pending housekeeping before a timed loop starts (moka: ``run_pending_tasks``)."""

    def get(self, cache: Any) -> Call | None:
        """``get(key)`` returning the value or a miss marker."""
        return Call("call1", cache.get)

    def set(self, cache: Any) -> Call | None:
        """Insert or replace one key with :data:`VALUE`."""
        return Call("setitem", cache, VALUE)

    def get_with(self, cache: Any) -> Call | None:
        """Look up, or compute with :func:`INIT` and insert; ``None`` if the library lacks it."""
        return None

    def remove(self, cache: Any) -> Call | None:
        """Remove one key, returning its value or a default."""
        return Call("call2", cache.pop, None)

    def peek(self, cache: Any) -> Call | None:
        """``cache.peek(k)`` (a read that records nothing), if the library has one."""
        peek = getattr(cache, "peek", None)
        return None if peek is None else Call("call1", peek)

    def get_many(self, cache: Any) -> Callable[[Any], Any] | None:
        """The bulk read taking a list of keys, if any."""
        return getattr(cache, "get_many", None)

    def set_many(self, cache: Any) -> Callable[[Any], Any] | None:
        """The bulk write taking a dict: ``set_many``, else the mapping's ``update``."""
        return getattr(cache, "set_many", None) or getattr(cache, "update", None)

    def remove_many(self, cache: Any) -> Callable[[Any], Any] | None:
        """The bulk remove taking a list of keys, if any."""
        return getattr(cache, "remove_many", None)

    def mapping(self, cache: Any, kind: str) -> bool:
        """Whether the cache offers ``c[k]`` / ``len(c)`` / iteration (``kind``: getitem, len, iter)."""
        return hasattr(cache, {"getitem": "__getitem__", "len": "__len__", "iter": "__iter__"}[kind])

    def decorate(
        self, func: Callable[[Any], Any], maxsize: int, ttl: float | None
    ) -> Callable[[Any], Any] | None:
        """``func`` memoized by this library's decorator (``None``: no decorator, or none with ttl)."""
        return None

    def settle_decorated(self, wrapper: Any) -> None:
        """Like :meth:`settle`, for a decorated function's cache if it exposes one."""

    def dispose(self, obj: Any) -> None:
        """Release a cache or decorated function made by this adapter (stop background work)."""

    def replay(self, cache: Any, trace: Iterable[int]) -> int:
        """Play a trace as a user would (``get``; on a miss, ``set``) and return the number of hits."""
        get = cache.get
        hits = 0
        for k in trace:
            if get(k) is None:
                cache[k] = k
            else:
                hits += 1
        return hits

    def thread_ops(self, cache: Any) -> tuple[Callable[[Any], Any], Callable[[Any, Any], Any]] | None:
        """``(get, set)`` callables that are safe to share between threads (``None``: not offered)."""
        return cache.get, cache.__setitem__


# --------------------------------------------------------------------------------------------- moka


REPLAY_SYNC_EVERY = 64
"""Accesses between two ``run_pending_tasks()`` in a moka hit-ratio replay (see ``MokaAdapter.replay``)."""


class MokaAdapter(Adapter):
    """Any module with moka-py's API: the Rust and pure backends, and moka-py 0.5.0 (import ``moka_py``).

    The decorator is the backend module's own ``cached`` (else ``moka_py.cached``), but only if
    ``moka_py`` selected this very backend: both build their caches with the selected backend's
    ``Moka``.  moka-py 0.5.0's is its own ``moka_py.cached``.  Otherwise :meth:`decorate` returns
    ``None`` and the harness runs the decorator operations in a worker started with ``MOKA_PY_BACKEND`` set.
    """

    def __init__(self, module: str, label: str, policy: str, backend_name: str | None) -> None:
        self.module_name = module
        self.label = label
        self.library = "moka-py"
        self.family = policy
        self.policy = policy
        self.backend_name = backend_name
        self.mod = importlib.import_module(module)
        self.Moka = self.mod.Moka

    def version(self) -> str:
        """The backend module's ``__version__``, or the installed distribution's version."""
        ver = getattr(self.mod, "__version__", None)
        if ver is None:
            from importlib import metadata

            ver = metadata.version("moka-py")
        return str(ver)

    def _cached(self) -> Callable[..., Any] | None:
        if self.backend_name is None:
            return getattr(self.mod, "cached", None)  # moka-py 0.5.0's own
        # A backend's own ``cached`` is ``moka_py``'s decorator with a faster hit path for the
        # backend's Moka; both build their caches with the backend ``moka_py`` selected, so
        # neither measures this backend unless ``moka_py`` selected it.
        core = importlib.import_module("moka_py")
        if core.backend().name != self.backend_name:
            return None
        own = getattr(self.mod, "cached", None)
        return own if own is not None else core.cached  # type: ignore[no-any-return]

    def new_cache(self, capacity: int | None, ttl: float | None = None) -> Any:
        """``Moka(capacity, ttl=ttl, policy=...)``."""
        return self.Moka(capacity, ttl=ttl, policy=self.policy)

    def fill(self, cache: Any, keys: Iterable[Hashable], ttl: float | None = None) -> None:
        """``cache.set(k, k)`` for each key, then ``run_pending_tasks()``."""
        set_ = cache.set
        for k in keys:
            set_(k, k)
        cache.run_pending_tasks()

    def settle(self, cache: Any) -> None:
        """``run_pending_tasks()``: every subject starts a timed loop from a settled cache."""
        cache.run_pending_tasks()

    def set(self, cache: Any) -> Call:
        """``cache.set(k, VALUE)``."""
        return Call("call2", cache.set, VALUE)

    def get_with(self, cache: Any) -> Call:
        """``cache.get_with(k, INIT)``."""
        return Call("call2", cache.get_with, INIT)

    def remove(self, cache: Any) -> Call:
        """``cache.remove(k)``."""
        return Call("call1", cache.remove)

    def decorate(
        self, func: Callable[[Any], Any], maxsize: int, ttl: float | None
    ) -> Callable[[Any], Any] | None:
        """``@cached(maxsize, ttl=ttl, policy=...)``."""
        cached = self._cached()
        if cached is None:
            return None
        return cached(maxsize, ttl=ttl, policy=self.policy)(func)  # type: ignore[no-any-return]

    def settle_decorated(self, wrapper: Any) -> None:
        """Settle the wrapper's ``cache`` (moka-py 0.5.0's wrapper has none: nothing to do)."""
        cache = getattr(wrapper, "cache", None)
        if cache is not None:
            cache.run_pending_tasks()

    def replay(self, cache: Any, trace: Iterable[int]) -> int:
        """``get``; on a miss ``set``; ``run_pending_tasks()`` after every ``REPLAY_SYNC_EVERY`` accesses.

        moka also runs housekeeping when 300 ms have passed since its last run.  That trigger
        depends on how fast the backend is, so without sync points the slow pure backend and the
        Rust one would run housekeeping at different accesses and could admit different entries.
        A sync every 64 accesses (a few hundred microseconds even in pure Python) keeps the timer
        from ever firing in between, so every moka subject decides at the same points.
        """
        get = cache.get
        set_ = cache.set
        sync = cache.run_pending_tasks
        hits = 0
        for i, k in enumerate(trace, 1):
            if get(k) is None:
                set_(k, k)
            else:
                hits += 1
            if not i % REPLAY_SYNC_EVERY:
                sync()
        return hits

    def thread_ops(self, cache: Any) -> tuple[Callable[[Any], Any], Callable[[Any, Any], Any]]:
        """``cache.get`` and ``cache.set``: moka caches are thread-safe as they are."""
        return cache.get, cache.set


class LeastBindingAdapter(MokaAdapter):
    """``benches/least_binding``: moka behind PyO3 and nothing else (a floor, not a cache).

    Timed in the speed rounds beside the Rust targets (``floor.Floors``), never listed as a subject.
    """

    def __init__(self, policy: str) -> None:
        super().__init__("moka_least_binding", f"least PyO3 binding [{policy}]", policy, None)
        self.library = "moka-least-binding"

    def version(self) -> str:
        """The installed distribution's version."""
        from importlib import metadata

        return metadata.version("moka-least-binding")

    def decorate(
        self, func: Callable[[Any], Any], maxsize: int, ttl: float | None
    ) -> Callable[[Any], Any] | None:
        """No decorator."""
        return None


# ------------------------------------------------------------------------------ cachetools, cachebox


class _FamilyClassAdapter(Adapter):
    """A library with ``LRUCache`` / ``LFUCache`` / ``TTLCache`` classes and a ``cached(cache)`` decorator.

    cachetools and cachebox share this shape: ``Class(maxsize)``, ``TTLCache(maxsize, ttl)``.
    """

    def __init__(self, cls_name: str) -> None:
        self.module: Any = importlib.import_module(self.library)
        self.cls_name = cls_name
        self.cls = getattr(self.module, cls_name)
        self.label = f"{self.library} {cls_name}"
        self.family = {"LRUCache": "lru", "LFUCache": "lfu", "TTLCache": "ttl"}[cls_name]

    def version(self) -> str:
        """The library's ``__version__``."""
        return str(self.module.__version__)

    def new_cache(self, capacity: int | None, ttl: float | None = None) -> Any:
        """The class with ``maxsize=capacity``; ``TTLCache`` needs a ttl, the others refuse one."""
        if (ttl is None) != (self.cls_name != "TTLCache") or capacity is None:
            return None
        return self.cls(capacity, ttl) if ttl is not None else self.cls(capacity)

    def decorate(
        self, func: Callable[[Any], Any], maxsize: int, ttl: float | None
    ) -> Callable[[Any], Any] | None:
        """``@library.cached(Class(maxsize[, ttl]))`` with the library's defaults (cachetools: no lock)."""
        cache = self.new_cache(maxsize, ttl)
        if cache is None:
            return None
        return self.module.cached(cache)(func)  # type: ignore[no-any-return]


class CachetoolsAdapter(_FamilyClassAdapter):
    """cachetools ``LRUCache`` / ``LFUCache`` / ``TTLCache`` (pure Python, not thread-safe)."""

    library = "cachetools"

    def thread_ops(self, cache: Any) -> tuple[Callable[[Any], Any], Callable[[Any, Any], Any]]:
        """cachetools is not thread-safe: a user shares it between threads behind a ``Lock``."""
        lock = threading.Lock()

        def get(k: Any) -> Any:
            with lock:
                return cache.get(k)

        def set_(k: Any, v: Any) -> None:
            with lock:
                cache[k] = v

        return get, set_


class CacheboxAdapter(_FamilyClassAdapter):
    """cachebox ``LRUCache`` / ``LFUCache`` / ``TTLCache`` (Rust, thread-safe)."""

    library = "cachebox"

    def get_with(self, cache: Any) -> Call:
        """``cache.setdefault_with(k, INIT)``: cachebox's compute-if-absent."""
        return Call("call2", cache.setdefault_with, INIT)


# ------------------------------------------------------------------------------------------ lru-dict


class LruDictAdapter(Adapter):
    """lru-dict's ``LRU`` (a C extension; safe between threads under the GIL)."""

    library = "lru-dict"
    label = "lru-dict LRU"
    family = "lru"

    def __init__(self) -> None:
        import lru

        self.LRU = lru.LRU

    def version(self) -> str:
        """The installed ``lru-dict`` distribution's version."""
        from importlib import metadata

        return metadata.version("lru-dict")

    def new_cache(self, capacity: int | None, ttl: float | None = None) -> Any:
        """``LRU(capacity)``; it has no ttl."""
        if ttl is not None or capacity is None:
            return None
        return self.LRU(capacity)


# -------------------------------------------------------------------------------------------- theine


class TheineAdapter(Adapter):
    """theine's ``Cache`` (W-TinyLFU in Rust with a Python front; ttl is per entry)."""

    library = "theine"
    label = "theine Cache"
    family = "tiny_lfu"

    def __init__(self) -> None:
        import theine

        self.theine = theine

    def version(self) -> str:
        """The installed ``theine`` distribution's version."""
        from importlib import metadata

        return metadata.version("theine")

    def new_cache(self, capacity: int | None, ttl: float | None = None) -> Any:
        """``Cache(capacity)``; a ttl is given per entry at fill time."""
        if capacity is None:
            return None
        return self.theine.Cache(capacity)

    def fill(self, cache: Any, keys: Iterable[Hashable], ttl: float | None = None) -> None:
        """``cache.set(k, k[, timedelta(seconds=ttl)])``."""
        delta = None if ttl is None else timedelta(seconds=ttl)
        for k in keys:
            cache.set(k, k, delta)

    def set(self, cache: Any) -> Call:
        """``cache.set(k, VALUE)``."""
        return Call("call2", cache.set, VALUE)

    def remove(self, cache: Any) -> Call:
        """``cache.delete(k)``."""
        return Call("call1", cache.delete)

    def decorate(self, func: Callable[[Any], Any], maxsize: int, ttl: float | None) -> Callable[[Any], Any]:
        """``@theine.Memoize(maxsize, ttl)`` (auto-key mode)."""
        delta = None if ttl is None else timedelta(seconds=ttl)
        return self.theine.Memoize(maxsize, delta)(func)  # type: ignore[no-any-return]

    def dispose(self, obj: Any) -> None:
        """``close()`` the cache: each theine cache has a maintenance task on theine's background loop
        that keeps it alive (and wakes every second) until closed."""
        cache = getattr(obj, "_cache", obj)
        close = getattr(cache, "close", None)
        if close is not None:
            close()

    def replay(self, cache: Any, trace: Iterable[int]) -> int:
        """theine's ``get`` returns ``(value, found)``."""
        get = cache.get
        set_ = cache.set
        hits = 0
        for k in trace:
            if get(k)[1]:
                hits += 1
            else:
                set_(k, k)
        return hits

    def thread_ops(self, cache: Any) -> tuple[Callable[[Any], Any], Callable[[Any, Any], Any]]:
        """theine is thread-safe unless built with ``nolock=True``."""
        return cache.get, cache.set


# ----------------------------------------------------------------------------------- stdlib references


class LruCacheAdapter(Adapter):
    """``functools.lru_cache``: only the decorator, and it has no ttl (used as the reference anyway)."""

    library = "functools"
    label = "functools.lru_cache"
    family = "lru"

    def version(self) -> str:
        """The Python version."""
        import platform

        return platform.python_version()

    def get(self, cache: Any) -> None:
        """Not a cache object."""
        return None

    def set(self, cache: Any) -> None:
        """Not a cache object."""
        return None

    def remove(self, cache: Any) -> None:
        """Not a cache object."""
        return None

    def thread_ops(self, cache: Any) -> None:
        """Not a cache object."""
        return None

    def decorate(self, func: Callable[[Any], Any], maxsize: int, ttl: float | None) -> Callable[[Any], Any]:
        """``@lru_cache(maxsize)``; a ttl is ignored (``lru_cache`` has none): it is the floor to beat."""
        return functools.lru_cache(maxsize)(func)


class DictAdapter(Adapter):
    """A plain ``dict``: no eviction, no ttl.  The floor every cache is compared with, not a peer."""

    library = "builtins"
    label = "dict (no eviction)"
    family = "none"

    def version(self) -> str:
        """The Python version."""
        import platform

        return platform.python_version()

    def new_cache(self, capacity: int | None, ttl: float | None = None) -> Any:
        """``{}`` (the capacity is ignored, so it is absent from eviction and ttl operations)."""
        if ttl is not None:
            return None
        return {}


# ------------------------------------------------------------------------------------------ registry


@dataclass(frozen=True)
class SubjectSpec:
    """One subject: a stable id, where it runs, and how to build its adapter.

    ``home`` is ``"local"`` (the harness process) or ``"legacy"`` (the moka-py 0.5.0 venv).
    ``group`` is ``"ours"``, ``"legacy"``, ``"peer"``, ``"reference"`` or ``"floor"`` (timed only
    beside the targets, by ``floor.Floors``, and never listed with the subjects).
    """

    id: str
    home: str
    group: str
    factory: Callable[[], Adapter]
    backend: str | None = None
    policy: str | None = None


def _moka(module: str, label: str, policy: str, backend: str | None) -> Callable[[], Adapter]:
    return lambda: MokaAdapter(module, label, policy, backend)


def _specs() -> dict[str, SubjectSpec]:
    specs: list[SubjectSpec] = []
    for backend, module in (("rust", "moka_py_rust"), ("pure", "moka_py_pure")):
        for policy in ("tiny_lfu", "lru"):
            sid = f"{backend}[{policy}]"
            label = f"moka-py {backend} [{policy}]"
            specs.append(
                SubjectSpec(sid, "local", "ours", _moka(module, label, policy, backend), backend, policy)
            )
    for policy in ("tiny_lfu", "lru"):
        sid = f"moka-py-0.5.0[{policy}]"
        label = f"moka-py 0.5.0 [{policy}]"
        specs.append(
            SubjectSpec(sid, "legacy", "legacy", _moka("moka_py", label, policy, None), None, policy)
        )
    for cls in ("LRUCache", "LFUCache", "TTLCache"):
        specs.append(
            SubjectSpec(f"cachetools.{cls}", "local", "peer", functools.partial(CachetoolsAdapter, cls))
        )
    for cls in ("LRUCache", "LFUCache", "TTLCache"):
        specs.append(SubjectSpec(f"cachebox.{cls}", "local", "peer", functools.partial(CacheboxAdapter, cls)))
    specs.append(SubjectSpec("lru-dict", "local", "peer", LruDictAdapter))
    specs.append(SubjectSpec("theine", "local", "peer", TheineAdapter))
    specs.append(SubjectSpec("lru_cache", "local", "reference", LruCacheAdapter))
    specs.append(SubjectSpec("dict", "local", "reference", DictAdapter))
    for policy in ("tiny_lfu", "lru"):
        specs.append(
            SubjectSpec(
                f"least-binding[{policy}]",
                "local",
                "floor",
                functools.partial(LeastBindingAdapter, policy),
                None,
                policy,
            )
        )
    return {s.id: s for s in specs}


SUBJECTS: dict[str, SubjectSpec] = _specs()
"""Every subject the harness knows, by id."""

_LOADED: dict[str, Adapter] = {}


def load_adapter(subject_id: str) -> Adapter:
    """Build (once per process) the adapter of a subject; raises ``ImportError`` if its library is missing.

    In a worker started for one backend's decorator (``MOKA_PY_BACKEND`` set), the backend module
    is imported directly as well; ``moka_py`` then selects that same backend.
    """
    adapter = _LOADED.get(subject_id)
    if adapter is None:
        spec = SUBJECTS[subject_id]
        if spec.backend is not None and os.environ.get("MOKA_PY_BACKEND") not in (None, spec.backend):
            raise ImportError(
                f"{subject_id}: this worker forces MOKA_PY_BACKEND={os.environ['MOKA_PY_BACKEND']}"
            )
        adapter = spec.factory()
        _LOADED[subject_id] = adapter
    return adapter
