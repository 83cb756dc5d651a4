"""Adapters that give every benchmarked library one shape.

A *subject* is one library configured one way (``moka-py rust [tiny_lfu]``, ``cachetools
LRUCache``, ...).  Its adapter builds and fills a cache and hands out the **library's own
callables** for each operation: the timed loops call ``cache.get`` / ``cache.set`` / ``cache[k] =
v`` directly, never through the adapter, so no adapter cost is measured.  An adapter returns
``None`` for an operation its library lacks; that subject is then absent from that operation.

Standard library only at import time (peers are imported inside their adapters), so this also loads
in moka-py 0.5.0's virtual environment, where none of the peers are installed.
"""

from __future__ import annotations

import functools
import importlib
import os
import platform
import threading
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from importlib import metadata
from typing import Any, ClassVar

VALUE: int = 1_000_001
"""The one small value every timed ``set`` stores (shared, so no subject pays for creating it)."""

Fn = Callable[..., Any]


def INIT() -> int:  # noqa: N802 - reads as a constant: the initializer every get_with receives
    """The initializer given to every ``get_with`` (returns :data:`VALUE`)."""
    return VALUE


def identity(x: Any) -> Any:
    """The function every benchmarked decorator memoizes."""
    return x


@dataclass(frozen=True)
class Call:
    """How a timed loop invokes one operation: ``kind`` is a ``timing.LOOPS`` shape (``call1``:
    ``target(k)``, ``call2``: ``target(k, arg)``, ``setitem``: ``target[k] = arg``, ...)."""

    kind: str
    target: Any
    arg: Any = None


REPLAY_SYNC_EVERY = 64
"""Accesses between two ``run_pending_tasks()`` in a moka hit-ratio replay (``Adapter.replay``)."""
CallTable = dict[str, tuple[str, str, Any]]
MAPPING_SHAPES = ("setitem", "getitem", "len", "iter")
"""Loop shapes that take the cache itself, not one of its methods."""


class Adapter:
    """The uniform face of one subject; the defaults fit a mapping-like cache."""

    label = library = "?"
    family = "?"
    """Eviction family: ``"tiny_lfu"``, ``"lru"``, ``"lfu"``, ``"ttl"`` or ``"none"``."""
    setter = "__setitem__"
    """The method that stores a value (``set(k, v)``) where it is not ``c[k] = v``."""
    CALLS: ClassVar[CallTable] = {
        "get": ("call1", "get", None),
        "set": ("setitem", "__setitem__", VALUE),
        "remove": ("call2", "pop", None),
        "peek": ("call1", "peek", None),  # a read that records nothing, if there is one
        "get_many": ("call1", "get_many", None),
        "set_many": ("call1", "set_many update", None),  # else the mapping's update
        "remove_many": ("call1", "remove_many", None),
        "getitem": ("getitem", "__getitem__", None),
        "len": ("len", "__len__", None),
        "iter": ("iter", "__iter__", None),
    }
    """Per operation: the loop shape, the cache's method (the first it has of those named) and the
    loop's argument.  ``get_with`` (look up, or compute with :data:`INIT` and insert) has none here."""

    def version(self) -> str:
        return metadata.version(self.library)

    def new_cache(self, capacity: int | None, ttl: float | None = None) -> Any | None:
        """A new cache bounded to ``capacity`` entries (``None``: this subject has no such cache)."""
        return None

    def fill(self, cache: Any, keys: Iterable[Hashable], ttl: float | None = None) -> None:
        """Insert ``key -> key`` for every key, the natural way for this library (untimed)."""
        set_ = getattr(cache, self.setter)
        for k in keys:
            set_(k, k)

    def settle(self, cache: Any) -> None:
        """Finish pending housekeeping before a timed loop (of a cache or a decorated function)."""

    def call(self, cache: Any, op: str) -> Call | None:
        """How a timed loop invokes ``op`` on ``cache`` (``None``: the library lacks it)."""
        kind, names, arg = self.CALLS.get(op, ("", "", None))
        name = next((n for n in names.split() if hasattr(cache, n)), None) if cache is not None else None
        if name is None:
            return None
        return Call(kind, cache if kind in MAPPING_SHAPES else getattr(cache, name), arg)

    def decorate(self, func: Fn, maxsize: int, ttl: float | None) -> Fn | None:
        """``func`` memoized by this library's decorator (``None``: no decorator, or none with ttl)."""
        return None

    def dispose(self, obj: Any) -> None:
        """Release a cache or decorated function made by this adapter (stop background work)."""

    def found(self, got: Any) -> bool:
        """Whether ``cache.get(k)`` returned a hit."""
        return got is not None

    def replay(self, cache: Any, trace: Iterable[int]) -> int:
        """Play a trace as a user would (``get``; on a miss, ``set``); the number of hits.

        A moka cache also runs ``run_pending_tasks()`` every :data:`REPLAY_SYNC_EVERY` accesses:
        moka runs housekeeping when 300 ms have passed since its last run too, a trigger that
        depends on the backend's speed: without sync points the slow pure backend and the Rust one
        would run it at different accesses and could admit different entries.
        """
        get, set_, hits = cache.get, getattr(cache, self.setter), 0
        sync = getattr(cache, "run_pending_tasks", lambda: None)
        for i, k in enumerate(trace, 1):
            if self.found(get(k)):
                hits += 1
            else:
                set_(k, k)
            if not i % REPLAY_SYNC_EVERY:
                sync()
        return hits

    def thread_ops(self, cache: Any) -> tuple[Fn, Fn] | None:
        """``(get, set)`` callables safe to share between threads (``None``: not offered)."""
        return cache.get, getattr(cache, self.setter)


class MokaAdapter(Adapter):
    """Any module with moka-py's API: the Rust and pure backends, moka-py 0.5.0 (``moka_py``), and
    the least binding (``benches/least_binding``: moka behind PyO3 and nothing else, not a cache).

    The decorator is the backend module's own ``cached`` (else ``moka_py.cached``), but only if
    ``moka_py`` selected this very backend (both build their caches with the selected backend's
    ``Moka``); otherwise :meth:`decorate` returns ``None`` and the harness runs the decorator
    operations in a worker started with ``MOKA_PY_BACKEND`` set.  moka-py 0.5.0 uses its own.
    """

    library, setter = "moka-py", "set"
    CALLS: ClassVar[CallTable] = {
        **Adapter.CALLS,
        "set": ("call2", "set", VALUE),
        "get_with": ("call2", "get_with", INIT),
        "remove": ("call1", "remove", None),
    }

    def __init__(self, module: str, label: str, policy: str, backend_name: str | None) -> None:
        self.label, self.family, self.policy, self.backend_name = label, policy, policy, backend_name
        self.mod = importlib.import_module(module)
        self.Moka = self.mod.Moka

    def version(self) -> str:
        return str(getattr(self.mod, "__version__", None) or metadata.version(self.library))

    def new_cache(self, capacity: int | None, ttl: float | None = None) -> Any:
        return self.Moka(capacity, ttl=ttl, policy=self.policy)

    def settle(self, cache: Any) -> None:
        """``run_pending_tasks()`` of a cache or of a decorated function's ``cache`` (0.5.0's has none)."""
        if (run := getattr(getattr(cache, "cache", cache), "run_pending_tasks", None)) is not None:
            run()

    def decorate(self, func: Fn, maxsize: int, ttl: float | None) -> Fn | None:
        cached = getattr(self.mod, "cached", None)
        if self.backend_name is not None:
            core = importlib.import_module("moka_py")
            if core.backend().name != self.backend_name:
                return None
            cached = cached or core.cached
        return None if cached is None else cached(maxsize, ttl=ttl, policy=self.policy)(func)


class MokaAloneAdapter(MokaAdapter):
    """moka alone (``benches/least_binding``'s ``MokaAlone``): int keys only, and its one call takes
    a whole loop's keys and times the loop in Rust (the ``native`` loop shape)."""

    NATIVE_OPS = ("get", "get_with", "set", "remove")

    def __init__(self, policy: str) -> None:
        super().__init__("moka_least_binding", f"moka alone [{policy}]", policy, None)
        self.Moka = self.mod.MokaAlone

    def fill(self, cache: Any, keys: Iterable[Hashable], ttl: float | None = None) -> None:
        """Insert every key; an error unless the cache then holds them all (a hit must be a hit)."""
        keys = list(keys)
        if (held := cache.fill(keys)) != len(keys):
            raise ValueError(f"moka alone holds {held} of {len(keys)} keys")

    def call(self, cache: Any, op: str) -> Call | None:
        return Call("native", functools.partial(cache.run, op)) if op in self.NATIVE_OPS else None


class FamilyClassAdapter(Adapter):
    """cachetools and cachebox: ``LRUCache`` / ``LFUCache`` / ``TTLCache(maxsize, ttl)`` classes and
    a ``cached(cache)`` decorator (used with the library's defaults: cachetools takes no lock)."""

    # cachebox's compute-if-absent; cachetools has none
    CALLS: ClassVar[CallTable] = {**Adapter.CALLS, "get_with": ("call2", "setdefault_with", INIT)}

    def __init__(self, library: str, cls_name: str) -> None:
        self.library, self.cls_name = library, cls_name
        self.module: Any = importlib.import_module(library)
        self.cls = getattr(self.module, cls_name)
        self.label = f"{library} {cls_name}"
        self.family = {"LRUCache": "lru", "LFUCache": "lfu", "TTLCache": "ttl"}[cls_name]

    def version(self) -> str:
        return str(self.module.__version__)

    def new_cache(self, capacity: int | None, ttl: float | None = None) -> Any:
        """``TTLCache`` needs a ttl, the others refuse one."""
        if (ttl is None) != (self.cls_name != "TTLCache") or capacity is None:
            return None
        return self.cls(capacity, ttl) if ttl is not None else self.cls(capacity)

    def decorate(self, func: Fn, maxsize: int, ttl: float | None) -> Fn | None:
        cache = self.new_cache(maxsize, ttl)
        return None if cache is None else self.module.cached(cache)(func)

    def thread_ops(self, cache: Any) -> tuple[Fn, Fn]:
        """cachebox is thread-safe; cachetools is not: a user shares it behind a ``Lock``."""
        if self.library == "cachebox":
            return cache.get, cache.__setitem__
        lock = threading.Lock()

        def get(k: Any) -> Any:
            with lock:
                return cache.get(k)

        def set_(k: Any, v: Any) -> None:
            with lock:
                cache[k] = v

        return get, set_


class LruDictAdapter(Adapter):
    """lru-dict's ``LRU`` (a C extension; safe between threads under the GIL)."""

    library, label, family = "lru-dict", "lru-dict LRU", "lru"

    def new_cache(self, capacity: int | None, ttl: float | None = None) -> Any:
        import lru

        return None if ttl is not None or capacity is None else lru.LRU(capacity)


class TheineAdapter(Adapter):
    """theine's ``Cache`` (W-TinyLFU in Rust with a Python front; ttl per entry; thread-safe)."""

    library, label, family, setter = "theine", "theine Cache", "tiny_lfu", "set"
    CALLS: ClassVar[CallTable] = {**Adapter.CALLS, "set": ("call2", "set", VALUE)}
    CALLS |= {"remove": ("call1", "delete", None)}

    def __init__(self) -> None:
        import theine

        self.theine = theine

    def new_cache(self, capacity: int | None, ttl: float | None = None) -> Any:
        return None if capacity is None else self.theine.Cache(capacity)

    def fill(self, cache: Any, keys: Iterable[Hashable], ttl: float | None = None) -> None:
        delta = None if ttl is None else timedelta(seconds=ttl)
        for k in keys:
            cache.set(k, k, delta)

    def decorate(self, func: Fn, maxsize: int, ttl: float | None) -> Fn:
        delta = None if ttl is None else timedelta(seconds=ttl)
        return self.theine.Memoize(maxsize, delta)(func)  # type: ignore[no-any-return]

    def dispose(self, obj: Any) -> None:
        """``close()``: each theine cache keeps a maintenance task on theine's loop until closed."""
        close = getattr(getattr(obj, "_cache", obj), "close", None)
        if close is not None:
            close()

    def found(self, got: Any) -> bool:
        """theine's ``get`` returns ``(value, found)``."""
        return bool(got[1])


class LruCacheAdapter(Adapter):
    """``functools.lru_cache``: only a decorator, without ttl (the reference anyway)."""

    library, label, family = "functools", "functools.lru_cache", "lru"

    def version(self) -> str:
        return platform.python_version()

    def decorate(self, func: Fn, maxsize: int, ttl: float | None) -> Fn:
        """``@lru_cache(maxsize)``; a ttl is ignored: it is the floor to beat."""
        return functools.lru_cache(maxsize)(func)


class DictAdapter(Adapter):
    """A plain ``dict``: no eviction, no ttl.  The floor every cache is compared with, not a peer."""

    library, label, family = "builtins", "dict (no eviction)", "none"

    def version(self) -> str:
        return platform.python_version()

    def new_cache(self, capacity: int | None, ttl: float | None = None) -> Any:
        return None if ttl is not None else {}


@dataclass(frozen=True)
class SubjectSpec:
    """How to build one subject's adapter, and its ``group``: ``ours``, ``legacy`` (runs in the
    moka-py 0.5.0 venv), ``peer``, ``reference``, or ``floor`` (timed only by ``floor.Floors``)."""

    group: str
    factory: Callable[[], Adapter]
    backend: str | None = None
    policy: str | None = None

    @property
    def home(self) -> str:
        """``"legacy"`` (the moka-py 0.5.0 venv) or ``"local"``."""
        return "legacy" if self.group == "legacy" else "local"


def _specs() -> dict[str, SubjectSpec]:
    partial, policies = functools.partial, ("tiny_lfu", "lru")
    moka = partial(partial, MokaAdapter)
    specs = {
        f"{b}[{p}]": SubjectSpec("ours", moka(f"moka_py_{b}", f"moka-py {b} [{p}]", p, b), b, p)
        for b in ("rust", "pure")
        for p in policies
    }
    for p in policies:
        legacy = moka("moka_py", f"moka-py 0.5.0 [{p}]", p, None)
        specs[f"moka-py-0.5.0[{p}]"] = SubjectSpec("legacy", legacy, None, p)
    for lib in ("cachetools", "cachebox"):
        for cls in ("LRUCache", "LFUCache", "TTLCache"):
            specs[f"{lib}.{cls}"] = SubjectSpec("peer", partial(FamilyClassAdapter, lib, cls))
    specs["lru-dict"] = SubjectSpec("peer", LruDictAdapter)
    specs["theine"] = SubjectSpec("peer", TheineAdapter)
    specs["lru_cache"] = SubjectSpec("reference", LruCacheAdapter)
    specs["dict"] = SubjectSpec("reference", DictAdapter)
    for p in policies:
        least = moka("moka_least_binding", f"least PyO3 binding [{p}]", p, None)  # benches/least_binding
        specs[f"least-binding[{p}]"] = SubjectSpec("floor", least, None, p)
        specs[f"moka-alone[{p}]"] = SubjectSpec("floor", partial(MokaAloneAdapter, p), None, p)
    return specs


SUBJECTS: dict[str, SubjectSpec] = _specs()
"""Every subject the harness knows, by id."""
OURS = ("rust[tiny_lfu]", "rust[lru]", "pure[tiny_lfu]", "pure[lru]")
PEERS = tuple(f"{lib}.{c}" for lib in ("cachetools", "cachebox") for c in ("LRUCache", "LFUCache"))
PEERS += ("lru-dict", "theine")
"""The peers every group compares (the TTLCache subjects only stand in for the ttl operations)."""

_LOADED: dict[str, Adapter] = {}


def load_adapter(subject_id: str) -> Adapter:
    """The adapter of a subject, built once per process; ``ImportError`` if its library is missing
    (or if this worker forces another backend with ``MOKA_PY_BACKEND``)."""
    if subject_id not in _LOADED:
        spec = SUBJECTS[subject_id]
        forced = os.environ.get("MOKA_PY_BACKEND")
        if spec.backend is not None and forced not in (None, spec.backend):
            raise ImportError(f"{subject_id}: this worker forces MOKA_PY_BACKEND={forced}")
        _LOADED[subject_id] = spec.factory()
    return _LOADED[subject_id]
