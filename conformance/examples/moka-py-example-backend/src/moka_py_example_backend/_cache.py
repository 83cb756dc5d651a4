"""The example backend's cache: one lock, a dict of entries and an OrderedDict for recency.

How it keeps the moka-py contract with simple parts (its own on purpose: it shares no code with
moka-py's backends, so the suite is seen to pass on an implementation written from the contract):

* The map is keyed by ``hash(key)``: each slot lists the entries of that hash, and a lookup
  compares the key it was given with theirs (identity, then ``==``), like ``dict``.  Entries are
  removed by identity, so a stored key's ``__hash__``/``__eq__`` never runs again after the call
  that stored it: a key whose code raises makes only the calls given that key raise.
* Reads and writes change the map (``_map``) at once, so a value is readable as soon as
  ``set`` returns. The size policy sees writes later: each write is appended to a write log,
  and *housekeeping* replays the log into the recency order (``_lru``), evicting the least
  recently used entries when the total weight exceeds the capacity. Housekeeping runs in
  ``run_pending_tasks()`` and ``clear()``, and inside an ordinary call once 64 reads or 64
  writes are pending or 300 ms have passed since the last run: the same moments at which
  moka may run its own, so ``"size"`` and ``"expired"`` events arrive when the contract says.
  The size bound (API.md section 6) adds one more moment: a write that takes the weight still
  waiting in the log past ``min(64, capacity // 8)`` runs housekeeping before it returns, so
  the map never holds more than ``capacity`` plus that slack.
* Expired entries are invisible at once and removed (reported ``"expired"``) by housekeeping.
* Listener events are collected while the lock is held and delivered after it is released,
  by the thread whose call produced them, before that call returns.
* ``get_with`` coalesces callers on a per-key waiter; waiters sleep on a bare lock without
  holding the cache's lock, waking every 100 ms so that signal handlers (Ctrl-C) run.
* ``aget_with`` runs one load task per (event loop, key), which its awaiters share through
  ``asyncio.shield``; a context variable (inherited by the tasks a load creates) names the loads
  a task descends from, so that a load awaiting its own key raises instead of waiting forever.
* ``refresh_after`` (refresh-ahead): a hit on an entry at least that old since its write claims
  the key in ``_refreshing`` and reloads it on a small module-wide pool of daemon threads (or as a
  task on the running loop for ``aget_with``); the reload stores its result only if the very
  ``_Entry`` it started from is still mapped and unexpired (every write makes a new ``_Entry``).
* No builtin is looked up at call time (they are bound at import), and nothing on the call path
  runs library code that does (``threading.Event`` does): user code may replace a builtin with
  a cached version of itself (API.md section 9).

Both policy names evict the least recently used entry: this backend does not claim moka's
TinyLFU admission, which is why it declares ``exact = False``.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import itertools
import math
import os
import queue
import sys
import threading
import time
import types

# Bound at import, not looked up at each call: user code may replace builtins (API.md section 9).
from builtins import (  # noqa: UP029
    bool,
    callable,
    enumerate,
    float,
    hash,
    int,
    isinstance,
    iter,
    len,
    list,
    max,
    min,
    next,
    object,
    str,
    tuple,
    type,
)
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import GenericAlias
from typing import Any, Generic, TypeVar, cast, overload

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
D = TypeVar("D")

Event = tuple[Any, Any, str]
"""A listener event: ``(key, value, cause)``."""

MAX_CAPACITY = 2**64 - 1
MAX_SECONDS = 31_536_000_000  # 1000 years: moka's longest duration
MAX_WEIGHT = 2**32 - 1  # heavier weights are clamped, as moka's u32 weights are
FLUSH_POINT = 64  # pending reads or writes that make an ordinary call run housekeeping
SYNC_INTERVAL = 0.3  # seconds after which an ordinary call runs housekeeping
WAKE_INTERVAL = 0.1  # seconds between wake-ups of a get_with waiter
RECURSION_MESSAGE = "get_with: the initializer for this key called get_with for the same key"
ASYNC_RECURSION_MESSAGE = "aget_with: the initializer for this key awaited aget_with for the same key"
_LOADS: contextvars.ContextVar[tuple[asyncio.Task[Any] | None, ...]] = contextvars.ContextVar(
    "moka_py_example_loads", default=()
)

_MISSING: Any = object()


def _seconds(name: str, value: object) -> float | None:
    """Validate a ttl/tti argument and return it as float seconds (None stays None)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = type(value).__name__
        raise TypeError(f"{name} must be a number of seconds (int or float) or None, not {kind}")
    if not 0 < value <= MAX_SECONDS:  # also rejects NaN, whose comparisons are all False
        raise ValueError(
            f"{name} must be finite, > 0 and at most 1000 years ({MAX_SECONDS} seconds), got {value!r}"
        )
    return float(value)


def _refresh_after(value: object, ttl: object, cache_ttl: float | None) -> float | None:
    """Validate ``refresh_after``: a duration below the ttl in effect (the call's, else the cache's)."""
    if value is None:
        return None
    seconds = _seconds("refresh_after", value)
    limit, whose = (ttl, "ttl") if ttl is not None else (cache_ttl, "the cache's ttl")
    if isinstance(limit, (int, float)) and seconds is not None and seconds >= limit:
        raise ValueError(f"refresh_after ({value!r}) must be below {whose} ({limit!r})")
    return seconds


class _ReloadThreads:
    """Two daemon threads, started on first use, running reloads from a queue."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.started = False
        self.lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        with self.lock:
            if not self.started:
                self.started = True
                for _ in range(2):
                    threading.Thread(target=self._work, daemon=True).start()
        self.jobs.put(job)

    def _work(self) -> None:
        while True:
            self.jobs.get()()


_reload_threads = _ReloadThreads()
# Counts the forks this process descends from: a cache's table of keys being reloaded is void in a
# child of the process that filled it (those reloads ran on the parent's threads).
_fork_generation = 0


def _after_fork_in_child() -> None:
    global _reload_threads, _fork_generation
    _reload_threads = _ReloadThreads()  # the parent's threads do not exist in a forked child
    _fork_generation += 1


os.register_at_fork(after_in_child=_after_fork_in_child)


class _Entry(Generic[V]):
    """One stored value and the times that decide when it expires."""

    __slots__ = (
        "accessed",
        "deadline",
        "entry_tti",
        "entry_ttl",
        "hash",
        "key",
        "slot",
        "value",
        "weight",
        "written",
    )

    def __init__(
        self,
        key: Any,
        h: int,
        slot: int,
        value: V,
        weight: int,
        now: float,
        ttl: float | None,
        tti: float | None,
    ) -> None:
        self.key = key
        self.hash = h
        self.slot = slot  # the same for every entry that replaced an equal key: the policy's handle
        self.value = value
        self.weight = weight
        self.written = now
        self.accessed = now
        self.entry_ttl = ttl
        self.entry_tti = tti
        # Per-entry expiry on create/update: min(ttl, tti) of those given, else no deadline.
        given = [d for d in (ttl, tti) if d is not None]
        self.deadline = now + min(given) if given else None


CAUSES = ("explicit", "size", "expired", "replaced")


@dataclass(frozen=True)
class CacheStats:
    """An immutable snapshot of a cache's counters (see moka-py's API.md section 7)."""

    hits: int
    misses: int
    loads: int
    load_failures: int
    load_time: float
    evictions: Mapping[str, int]
    eviction_weight: int

    @property
    def hit_rate(self) -> float:
        reads = self.hits + self.misses
        return self.hits / reads if reads else 1.0


def _pairs(what: str, items: Any) -> Iterator[tuple[Any, Any]]:
    """The pairs of a mapping (anything with ``keys()``) or of an iterable of pairs."""
    if hasattr(items, "keys"):
        for key in items.keys():  # noqa: SIM118 (as dict.update: keys(), then items[key])
            yield key, items[key]
        return
    try:
        pairs = iter(items)
    except TypeError:
        raise TypeError(
            f"{what} expects a mapping or an iterable of (key, value) pairs, not {type(items).__name__}"
        ) from None
    for index, pair in enumerate(pairs):
        try:
            key, value = pair
        except (TypeError, ValueError):
            raise TypeError(f"{what}: item {index} is not a (key, value) pair: {pair!r}") from None
        yield key, value


def _iterate(what: str, keys: Any) -> Iterator[Any]:
    try:
        return iter(keys)
    except TypeError:
        raise TypeError(f"{what} expects an iterable of keys, not {type(keys).__name__}") from None


class _Waiter:
    """The rendezvous of the callers of ``get_with`` for one missing key."""

    __slots__ = ("done", "error", "key", "owner", "retry", "value")

    def __init__(self, key: Any) -> None:
        self.key = key
        self.owner = threading.get_ident()
        self.done = threading.Lock()  # held until the owner finishes (see finish)
        self.done.acquire()
        self.value: Any = None
        self.error: BaseException | None = None
        self.retry = False  # the owner left with a non-Exception (Ctrl-C): waiters start over

    def wait(self) -> None:
        while not self.done.acquire(timeout=WAKE_INTERVAL):
            pass  # each wake-up returns to the interpreter, which runs pending signal handlers
        self.done.release()  # for the next waiter

    def finish(self) -> None:
        """Wake every waiter (once the outcome is stored)."""
        self.done.release()


class Moka(Generic[K, V]):
    """A thread-safe, size- and time-bounded cache that keeps the moka-py contract.

    ``Moka(capacity, ttl=None, tti=None, eviction_listener=None, policy="tiny_lfu", weigher=None)``;
    see moka-py's API.md section 3 for the meaning of every argument and method.
    """

    def __class_getitem__(cls, params: Any) -> GenericAlias:
        """``Moka[str, int]`` at runtime, like the built-in collections."""
        return GenericAlias(cls, params)

    def __init__(
        self,
        capacity: int | None,
        ttl: float | None = None,
        tti: float | None = None,
        eviction_listener: Callable[[K, V, str], object] | None = None,
        policy: str = "tiny_lfu",
        weigher: Callable[[K, V], int] | None = None,
    ) -> None:
        # Validated in parameter order, before anything is built.
        if capacity is not None:
            if isinstance(capacity, bool) or not isinstance(capacity, int):
                raise TypeError(f"capacity must be an int or None, not {type(capacity).__name__}")
            if capacity < 0:
                raise ValueError(f"capacity must be >= 0, got {capacity}")
            if capacity > MAX_CAPACITY:
                raise ValueError(f"capacity must be at most 2**64 - 1, got {capacity}")
        self._ttl = _seconds("ttl", ttl)
        self._tti = _seconds("tti", tti)
        if eviction_listener is not None and not callable(eviction_listener):
            kind = type(eviction_listener).__name__
            raise TypeError(f"eviction_listener must be callable or None, not {kind}")
        if not isinstance(policy, str):
            raise TypeError(f"policy must be 'tiny_lfu' or 'lru', not {type(policy).__name__}")
        if policy not in ("tiny_lfu", "lru"):
            raise ValueError(f"policy must be 'tiny_lfu' or 'lru', got {policy!r}")
        if weigher is not None and not callable(weigher):
            raise TypeError(f"weigher must be callable or None, not {type(weigher).__name__}")
        self._capacity = capacity
        self._policy = policy
        self._listener = eviction_listener
        self._weigher = weigher
        self._clock = time.monotonic
        self._lock = threading.Lock()
        self._map: dict[int, list[_Entry[V]]] = {}  # what readers see: hash(key) -> entries
        self._lru: OrderedDict[int, _Entry[V]] = OrderedDict()  # admitted entries by slot, LRU first
        self._weighted = 0  # total weight of the admitted entries
        self._log: list[tuple[_Entry[V], bool]] = []  # pending writes: (entry, True=upsert)
        self._slack = None if not capacity else min(64, capacity // 8)
        self._pending = 0  # weight written since the last housekeeping (the size bound)
        self._slots = itertools.count()
        self._reads = 0  # reads since the last housekeeping
        self._last_cycle = self._clock()
        self._waiters: dict[int, list[_Waiter]] = {}  # by hash(key), like the map
        self._async_loads: dict[tuple[asyncio.AbstractEventLoop, Hashable], asyncio.Task[Any]] = {}
        self._refreshing: dict[int, list[Any]] = {}  # keys being reloaded, by hash(key)
        self._refreshing_generation = _fork_generation  # the process whose reloads it lists
        self._reload_tasks: set[asyncio.Task[None]] = set()
        self._zero_stats()

    # --- read-only settings ---------------------------------------------------------------

    @property
    def capacity(self) -> int | None:
        return self._capacity

    @property
    def ttl(self) -> float | None:
        return self._ttl

    @property
    def tti(self) -> float | None:
        return self._tti

    @property
    def policy(self) -> str:
        return self._policy

    def __repr__(self) -> str:
        return (
            f"Moka(capacity={self._capacity!r}, ttl={self._ttl!r}, tti={self._tti!r}, "
            f"policy={self._policy!r}, backend='example')"
        )

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("cannot pickle 'Moka' object")

    # --- the public operations ------------------------------------------------------------

    def set(self, key: K, value: V, ttl: float | None = None, tti: float | None = None) -> None:
        """Store ``value`` under ``key``, replacing (and reporting) any value already there."""
        entry_ttl, entry_tti = _seconds("ttl", ttl), _seconds("tti", tti)
        h = hash(key)  # unhashable or raising keys fail here, before anything changes
        self._deliver(self._store(key, h, value, entry_ttl, entry_tti))

    @overload
    def get(self, key: K) -> V | None: ...
    @overload
    def get(self, key: K, default: D) -> V | D: ...
    def get(self, key: K, default: Any = None) -> Any:
        """The value stored under ``key`` (a recorded read), or ``default``."""
        events: list[Event] = []
        h = hash(key)
        with self._lock:
            value = self._lookup(key, h, default, events)
        self._deliver(events)
        return value

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` holds an unexpired value. Not a recorded read: it changes nothing."""
        h = hash(key)
        with self._lock:
            entry = self._find(key, h)
            return entry is not None and not self._expired(entry, self._clock())

    @overload
    def remove(self, key: K) -> V | None: ...
    @overload
    def remove(self, key: K, default: D) -> V | D: ...
    def remove(self, key: K, default: Any = None) -> Any:
        """Remove ``key`` and return its value (even if expired but not yet evicted), or ``default``."""
        events: list[Event] = []
        h = hash(key)
        with self._lock:
            entry = self._find(key, h)
            now = self._clock()
            if entry is not None:
                self._unmap(entry)
                self._log.append((entry, False))
                cause = "expired" if self._expired_cache_wide(entry, now) else "explicit"
                events.append((key, entry.value, cause))
                if cause == "expired":
                    self._evicted_weight += entry.weight
            self._maybe_housekeep(events, now)
        self._deliver(events)
        return default if entry is None else entry.value

    def get_with(
        self,
        key: K,
        initializer: Callable[[], V],
        ttl: float | None = None,
        tti: float | None = None,
        refresh_after: float | None = None,
    ) -> V:
        """The value under ``key``; on a miss, run ``initializer`` once across threads and store it."""
        if not callable(initializer):
            raise TypeError(f"initializer must be callable, not {type(initializer).__name__}")
        entry_ttl, entry_tti = _seconds("ttl", ttl), _seconds("tti", tti)
        refresh = _refresh_after(refresh_after, ttl, self._ttl)
        h = hash(key)
        while True:
            found = self.get(key, _MISSING)
            if found is not _MISSING:
                if refresh is not None and (entry := self._due(key, h, refresh)) is not None:
                    _reload_threads.submit(
                        lambda: self._reload(key, h, entry, initializer, entry_ttl, entry_tti)
                    )
                return found
            with self._lock:
                waiters = self._waiters.setdefault(h, [])
                waiter = next((w for w in waiters if w.key is key or w.key == key), None)
                if waiter is None:
                    waiter = _Waiter(key)
                    waiters.append(waiter)
                    owner = True
                elif waiter.owner == threading.get_ident():
                    raise RuntimeError(RECURSION_MESSAGE)
                else:
                    owner = False
            if owner:
                return self._initialize(key, h, waiter, initializer, entry_ttl, entry_tti)
            waiter.wait()
            if waiter.retry:
                continue  # the owner was interrupted: try again, maybe as the new owner
            if waiter.error is not None:
                raise waiter.error  # the same exception object in every caller
            return waiter.value  # type: ignore[no-any-return]

    def aget_with(
        self,
        key: K,
        initializer: Callable[[], Awaitable[V]],
        ttl: float | None = None,
        tti: float | None = None,
        refresh_after: float | None = None,
    ) -> Coroutine[Any, Any, V]:
        """The value under ``key``; on a miss, await ``initializer()`` once per event loop and store it."""
        if not callable(initializer):
            raise TypeError(f"initializer must be callable, not {type(initializer).__name__}")
        entry_ttl, entry_tti = _seconds("ttl", ttl), _seconds("tti", tti)
        refresh = _refresh_after(refresh_after, ttl, self._ttl)
        return self._aget_with(key, initializer, entry_ttl, entry_tti, refresh)

    async def _aget_with(
        self,
        key: K,
        initializer: Callable[[], Awaitable[V]],
        ttl: float | None,
        tti: float | None,
        refresh: float | None,
    ) -> V:
        found = self.get(key, _MISSING)
        if found is not _MISSING:
            h = hash(key)
            if refresh is not None and (entry := self._due(key, h, refresh)) is not None:
                task = asyncio.get_running_loop().create_task(
                    self._areload(key, h, entry, initializer, ttl, tti)
                )
                self._reload_tasks.add(task)
                task.add_done_callback(self._reload_tasks.discard)
            return found  # type: ignore[no-any-return]
        loop = asyncio.get_running_loop()
        slot = (loop, key)
        load = self._async_loads.get(slot)
        if load is None:
            load = loop.create_task(self._load_async(slot, initializer, ttl, tti))
            self._async_loads[slot] = load
            load.add_done_callback(lambda done: self._landed(slot, done))
        elif load in _LOADS.get():
            raise RuntimeError(ASYNC_RECURSION_MESSAGE)
        return await asyncio.shield(load)  # type: ignore[no-any-return]

    async def _load_async(
        self,
        slot: tuple[asyncio.AbstractEventLoop, Hashable],
        initializer: Callable[[], Awaitable[V]],
        ttl: float | None,
        tti: float | None,
    ) -> V:
        me = asyncio.current_task()
        _LOADS.set((*_LOADS.get(), me))
        key = cast("K", slot[1])
        try:
            found = self.peek(key, _MISSING)  # stored meanwhile: no second load
            if found is not _MISSING:
                return found  # type: ignore[no-any-return]
            started = time.perf_counter()
            try:
                value = await initializer()
            finally:
                self._count_load(started, failed=sys.exc_info()[0] is not None)
            self._deliver(self._store(key, hash(key), value, ttl, tti))
            return value
        finally:
            self._landed(slot, me)

    def _landed(
        self, slot: tuple[asyncio.AbstractEventLoop, Hashable], load: asyncio.Task[Any] | None
    ) -> None:
        """Forget a finished load (before its awaiters resume); retrieve its exception."""
        if self._async_loads.get(slot) is load:
            del self._async_loads[slot]
        if load is not None and load.done() and not load.cancelled():
            load.exception()  # retrieved, even when every awaiter was cancelled

    # --- refresh-ahead ---------------------------------------------------------------------

    def _due(self, key: Any, h: int, refresh: float) -> _Entry[V] | None:
        """The live entry of ``key`` if it is due for a reload and none is running (then claimed)."""
        with self._lock:
            entry = self._find(key, h)
            if entry is None or self._expired(entry, self._clock()):
                return None
            if self._clock() - entry.written < refresh:
                return None
            if self._refreshing_generation != _fork_generation:  # a forked child: forget the parent's
                self._refreshing.clear()
                self._refreshing_generation = _fork_generation
            claimed = self._refreshing.setdefault(h, [])
            if any(k is key or k == key for k in claimed):
                return None
            claimed.append(key)
            return entry

    def _reloaded(
        self, key: Any, h: int, entry: _Entry[V], value: Any, ttl: float | None, tti: float | None
    ) -> None:
        """Store a reload's value if ``entry`` is still the live entry of ``key``; unclaim the key."""
        try:
            self._deliver(self._store(key, h, value, ttl, tti, only=entry))
        finally:
            self._unclaim(key, h)

    def _unclaim(self, key: Any, h: int) -> None:
        with self._lock:
            claimed = self._refreshing.get(h, [])
            for i, k in enumerate(claimed):
                if k is key or k == key:
                    del claimed[i]
                    break
            if not claimed:
                self._refreshing.pop(h, None)

    def _reload(
        self,
        key: Any,
        h: int,
        entry: _Entry[V],
        initializer: Callable[[], V],
        ttl: float | None,
        tti: float | None,
    ) -> None:
        started = time.perf_counter()
        try:
            value = initializer()
        except BaseException:
            self._count_load(started, failed=True)
            self._unclaim(key, h)
            return
        self._count_load(started, failed=False)
        self._reloaded(key, h, entry, value, ttl, tti)

    async def _areload(
        self,
        key: Any,
        h: int,
        entry: _Entry[V],
        initializer: Callable[[], Awaitable[V]],
        ttl: float | None,
        tti: float | None,
    ) -> None:
        started = time.perf_counter()
        try:
            value = await initializer()
        except BaseException:
            self._count_load(started, failed=True)
            self._unclaim(key, h)
            return
        self._count_load(started, failed=False)
        self._reloaded(key, h, entry, value, ttl, tti)

    def clear(self) -> None:
        """Settle pending writes, then remove every entry and report it."""
        events: list[Event] = []
        with self._lock:
            self._housekeep(events, self._clock())
            events.extend((e.key, e.value, "explicit") for entries in self._map.values() for e in entries)
            self._map.clear()
            self._lru.clear()
            self._weighted = 0
        self._deliver(events)

    def run_pending_tasks(self) -> None:
        """Run housekeeping now: afterwards ``count()`` and ``weighted_size()`` are exact."""
        events: list[Event] = []
        with self._lock:
            self._housekeep(events, self._clock())
        self._deliver(events)

    # --- looking into the cache, and working in bulk (API.md section 7) -------------------

    def _live(self) -> list[_Entry[V]]:
        now = self._clock()
        return [e for entries in self._map.values() for e in entries if not self._expired(e, now)]

    def __len__(self) -> int:
        """The number of live entries (what ``get`` would find); O(n)."""
        with self._lock:
            return len(self._live())

    def __bool__(self) -> bool:
        return len(self) > 0

    def __iter__(self) -> Iterator[K]:
        return iter(self.keys())

    def keys(self) -> list[K]:
        with self._lock:
            return [e.key for e in self._live()]

    def values(self) -> list[V]:
        with self._lock:
            return [e.value for e in self._live()]

    def items(self) -> list[tuple[K, V]]:
        with self._lock:
            return [(e.key, e.value) for e in self._live()]

    def __getitem__(self, key: K) -> V:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return cast(V, value)

    def __setitem__(self, key: K, value: V) -> None:
        self.set(key, value)

    def __delitem__(self, key: K) -> None:
        if self.remove(key, _MISSING) is _MISSING:
            raise KeyError(key)

    def pop(self, key: K, default: Any = _MISSING) -> Any:
        value = self.remove(key, _MISSING)
        if value is not _MISSING:
            return value
        if default is _MISSING:
            raise KeyError(key)
        return default

    def setdefault(self, key: K, default: Any = None) -> Any:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            self.set(key, default)
            return default
        return value

    def update(self, other: Any = (), /, **kwargs: V) -> None:
        for key, value in _pairs("update", other):
            self.set(key, value)
        for key, value in kwargs.items():
            self.set(cast(K, key), value)

    def _live_entry(self, key: Any) -> _Entry[V] | None:
        h = hash(key)
        with self._lock:
            entry = self._find(key, h)
            if entry is None or self._expired(entry, self._clock()):
                return None
            return entry

    def peek(self, key: K, default: Any = None) -> Any:
        """The value without recording a read (no idle-time renewal, no recency change)."""
        entry = self._live_entry(key)
        return default if entry is None else entry.value

    def expires_in(self, key: K, default: Any = None) -> Any:
        """Seconds until the entry expires (``math.inf`` if never), or ``default``."""
        h = hash(key)
        with self._lock:
            now = self._clock()
            entry = self._find(key, h)
            if entry is None or self._expired(entry, now):
                return default
            deadlines = [entry.deadline] if entry.deadline is not None else []
            if self._ttl is not None:
                deadlines.append(entry.written + self._ttl)
            if self._tti is not None:
                deadlines.append(entry.accessed + self._tti)
        return min(deadlines) - now if deadlines else math.inf

    def get_many(self, keys: Iterable[K]) -> dict[K, V]:
        found: dict[K, V] = {}
        for key in _iterate("get_many", keys):
            value = self.get(key, _MISSING)
            if value is not _MISSING:
                found[key] = value
        return found

    def set_many(self, items: Any, ttl: float | None = None, tti: float | None = None) -> None:
        _seconds("ttl", ttl), _seconds("tti", tti)
        for key, value in _pairs("set_many", items):
            self.set(key, value, ttl, tti)

    def remove_many(self, keys: Iterable[K]) -> dict[K, V]:
        removed: dict[K, V] = {}
        for key in _iterate("remove_many", keys):
            value = self.remove(key, _MISSING)
            if value is not _MISSING:
                removed[key] = value
        return removed

    def remove_if(self, predicate: Callable[[K, V], object]) -> int:
        """Remove the entries ``predicate(key, value)`` accepts (called with no lock held)."""
        if not callable(predicate):
            raise TypeError(f"predicate must be callable, not {type(predicate).__name__}")
        self.run_pending_tasks()
        with self._lock:
            snapshot = self._live()
        removed = 0
        for entry in snapshot:
            if not predicate(entry.key, entry.value):
                continue
            events: list[Event] = []
            with self._lock:
                now = self._clock()
                if self._unmap(entry):  # by identity: only if not written or removed since
                    self._log.append((entry, False))
                    cause = "expired" if self._expired_cache_wide(entry, now) else "explicit"
                    events.append((entry.key, entry.value, cause))
                    if cause == "expired":
                        self._evicted_weight += entry.weight
                    removed += 1
                self._maybe_housekeep(events, now)
            self._deliver(events)
        return removed

    def _zero_stats(self) -> None:
        self._hits = self._misses = self._loads = self._load_failures = 0
        self._load_time = 0.0
        self._evictions = dict.fromkeys(CAUSES, 0)
        self._evicted_weight = 0

    def _count_load(self, started: float, failed: bool) -> None:
        with self._lock:
            self._loads += 1
            self._load_failures += failed
            self._load_time += time.perf_counter() - started

    def stats(self) -> CacheStats:
        """A snapshot of the counters since creation or ``reset_stats()``."""
        with self._lock:
            return CacheStats(
                self._hits,
                self._misses,
                self._loads,
                self._load_failures,
                self._load_time,
                types.MappingProxyType(dict(self._evictions)),
                self._evicted_weight,
            )

    def reset_stats(self) -> None:
        with self._lock:
            self._zero_stats()

    def count(self) -> int:
        """The number of entries housekeeping has seen (exact after ``run_pending_tasks()``)."""
        with self._lock:
            return len(self._lru)

    def weighted_size(self) -> int:
        """The total weight housekeeping has seen (exact after ``run_pending_tasks()``)."""
        with self._lock:
            return self._weighted

    # --- helpers that run with the lock held ----------------------------------------------

    def _expired_cache_wide(self, entry: _Entry[V], now: float) -> bool:
        return (self._ttl is not None and now >= entry.written + self._ttl) or (
            self._tti is not None and now >= entry.accessed + self._tti
        )

    def _expired(self, entry: _Entry[V], now: float) -> bool:
        return self._expired_cache_wide(entry, now) or (entry.deadline is not None and now >= entry.deadline)

    def _find(self, key: Any, h: int) -> _Entry[V] | None:
        """The entry for ``key`` (of hash ``h``): compares it with the stored keys of that hash only."""
        for entry in self._map.get(h, ()):
            if entry.key is key or entry.key == key:
                return entry
        return None

    def _unmap(self, entry: _Entry[V]) -> bool:
        """Take this very entry out of the map (by identity: no key code runs); False if not there."""
        entries = self._map.get(entry.hash, [])
        for i, e in enumerate(entries):
            if e is entry:
                del entries[i]
                if not entries:
                    del self._map[entry.hash]
                return True
        return False

    def _lookup(self, key: K, h: int, default: Any, events: list[Event]) -> Any:
        """A recorded read: refresh the entry's idle time and recency, and count the read."""
        now = self._clock()
        entry = self._find(key, h)
        self._reads += 1
        if entry is None or self._expired(entry, now):
            value = default
            self._misses += 1
        else:
            self._hits += 1
            value = entry.value
            entry.accessed = now
            if entry.entry_tti is not None:
                # Per-entry expiry on a read: tti again, capped by what is left of the per-entry ttl.
                duration = entry.entry_tti
                if entry.entry_ttl is not None:
                    duration = min(duration, max(0.0, entry.written + entry.entry_ttl - now))
                entry.deadline = now + duration
            if self._lru.get(entry.slot) is entry:
                self._lru.move_to_end(entry.slot)
        self._maybe_housekeep(events, now)
        return value

    def _maybe_housekeep(self, events: list[Event], now: float) -> None:
        due = now - self._last_cycle >= SYNC_INTERVAL
        over = self._slack is not None and self._pending > self._slack
        if due or over or len(self._log) >= FLUSH_POINT or self._reads >= FLUSH_POINT:
            self._housekeep(events, now)

    def _housekeep(self, events: list[Event], now: float) -> None:
        """Replay pending writes into the policy, drop expired entries, then trim to capacity."""
        self._last_cycle, self._reads, self._pending = now, 0, 0
        log, self._log = self._log, []
        for entry, upsert in log:
            if upsert:
                self._admit(entry, events)
            elif self._lru.get(entry.slot) is entry:  # a removal: the policy forgets the entry too
                del self._lru[entry.slot]
                self._weighted -= entry.weight
        for entry in list(self._lru.values()):
            if self._expired(entry, now):
                self._evict(entry, "expired", events)
        capacity = self._capacity
        while capacity is not None and self._weighted > capacity and self._lru:
            self._evict(next(iter(self._lru.values())), "size", events)

    def _admit(self, entry: _Entry[V], events: list[Event]) -> None:
        """Give a written entry its place at the most recently used end, evicting LRU entries."""
        slot = entry.slot
        current = self._lru.get(slot)
        if current is not None:  # an update of an admitted key: swap the entry, keep its place
            self._weighted += entry.weight - current.weight
            self._lru[slot] = entry
            self._lru.move_to_end(slot)
            return
        capacity = self._capacity
        if capacity is not None:
            if entry.weight > capacity:  # can never fit: reject it
                if self._unmap(entry):
                    events.append((entry.key, entry.value, "size"))
                    self._evicted_weight += entry.weight
                return
            while self._weighted + entry.weight > capacity and self._lru:
                self._evict(next(iter(self._lru.values())), "size", events)
        self._lru[slot] = entry
        self._weighted += entry.weight

    def _evict(self, entry: _Entry[V], cause: str, events: list[Event]) -> None:
        """Take an admitted entry out of the policy, and out of the map if it is still there."""
        del self._lru[entry.slot]
        self._weighted -= entry.weight
        if self._unmap(entry):  # else it was already replaced or removed, and reported
            events.append((entry.key, entry.value, cause))
            self._evicted_weight += entry.weight

    # --- helpers that run without the lock ------------------------------------------------

    def _weigh(self, key: K, value: V) -> int:
        if self._weigher is None:
            return 1
        weight = self._weigher(key, value)  # may raise: nothing has changed yet
        if isinstance(weight, bool) or not isinstance(weight, int):
            raise TypeError(f"weigher must return an int, not {type(weight).__name__}")
        if weight < 0:
            raise ValueError(f"weigher must return an int >= 0, got {weight}")
        return min(weight, MAX_WEIGHT)

    def _store(
        self,
        key: K,
        h: int,
        value: V,
        ttl: float | None,
        tti: float | None,
        only: _Entry[V] | None = None,
    ) -> list[Event]:
        """Insert through the write path; return the events to deliver.

        ``only``: write only if that very entry is still mapped and unexpired (a reload's write).
        """
        events: list[Event] = []
        if self._capacity == 0:
            return events  # a cache of capacity 0 stores nothing and reports nothing
        weight = self._weigh(key, value)
        with self._lock:
            now = self._clock()
            old = self._find(key, h)  # a raising __eq__ fails here, before anything changes
            if only is not None and (old is not only or self._expired(only, now)):
                return events
            if old is None:
                entry = _Entry(key, h, next(self._slots), value, weight, now, ttl, tti)
                self._map.setdefault(h, []).append(entry)
            else:  # the new entry takes the old one's place in the map and in the policy
                entry = _Entry(old.key, h, old.slot, value, weight, now, ttl, tti)
                entries = self._map[h]
                entries[next(i for i, e in enumerate(entries) if e is old)] = entry
            self._log.append((entry, True))
            self._pending += weight
            if old is not None:
                cause = "expired" if self._expired_cache_wide(old, now) else "replaced"
                events.append((key, old.value, cause))
                if cause == "expired":
                    self._evicted_weight += old.weight
            self._maybe_housekeep(events, now)
        return events

    def _initialize(
        self,
        key: K,
        h: int,
        waiter: _Waiter,
        initializer: Callable[[], V],
        ttl: float | None,
        tti: float | None,
    ) -> V:
        """As the owner of ``waiter``: compute, store and publish the value for ``key``."""
        events: list[Event] = []
        try:
            with self._lock:  # re-check without recording a read: another thread may have set it
                entry = self._find(key, h)
                present = entry is not None and not self._expired(entry, self._clock())
            if entry is not None and present:
                value = entry.value
            else:
                started = time.perf_counter()
                try:
                    value = initializer()  # outside every lock
                finally:
                    self._count_load(started, failed=sys.exc_info()[0] is not None)
                events = self._store(key, h, value, ttl, tti)
        except BaseException as exc:
            waiter.error, waiter.retry = exc, not isinstance(exc, Exception)
            raise
        else:
            waiter.value = value
        finally:
            with self._lock:  # by identity and known hash: no key code may fail here
                waiters = self._waiters.get(h, [])
                if waiter in waiters:
                    waiters.remove(waiter)
                    if not waiters:
                        del self._waiters[h]
            waiter.finish()
        self._deliver(events)
        return value

    def _deliver(self, events: list[Event]) -> None:
        """Call the listener for each event; raise its first exception after all are delivered."""
        if not events:
            return
        with self._lock:  # counted with or without a listener (API.md section 7)
            for _, _, cause in events:
                self._evictions[cause] += 1
        listener = self._listener
        if listener is None:
            return
        first: BaseException | None = None
        for key, value, cause in events:
            try:
                listener(key, value, cause)
            except BaseException as exc:  # delivery goes on; the first error is raised below
                if first is None:
                    first = exc
        if first is not None:
            raise first


# pop's "no default given" is a private sentinel; its signature shows it as `...`, as moka-py's
# backends do (moka-py's conformance suite compares signatures with its stub)
_pop_signature = inspect.signature(Moka.pop)
Moka.pop.__signature__ = _pop_signature.replace(  # type: ignore[attr-defined]
    parameters=[
        p.replace(default=...) if p.name == "default" else p for p in _pop_signature.parameters.values()
    ]
)
