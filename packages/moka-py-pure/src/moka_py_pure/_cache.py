"""``Moka``: the public cache class of the pure backend.

It ties the mechanisms together the way moka's ``sync::Cache`` / ``BaseCache`` do:

* the map is a ``dict`` from ``hash(key)`` to :class:`~moka_py_pure._entry.Entry` (see
  :mod:`~moka_py_pure._keymap`: a stored key's code never runs again); an insert or a remove
  changes it at once and queues a write record, a recorded read queues a read record;
* the policy (admission, eviction, expiry removal) only sees those records when a housekeeping cycle
  runs, triggered by the 64-record flush points, the 300 ms timer, or ``run_pending_tasks``;
* one ``RLock`` per cache guards the map and all policy state; listener events are queued while it is
  held and delivered by the calling thread after it is released, so a listener may call back into the
  cache (even ``set`` of the key being replaced, or ``run_pending_tasks``) without deadlock.

Time is ``clock() - creation time`` in nanoseconds: ``time.monotonic_ns``, or the clock given to
``Moka._with_clock`` (tests).
"""

from __future__ import annotations

import inspect
import math
import threading
import time
import types

# Bound at import, not looked up at each call: user code may replace builtins (API.md section 9).
from builtins import bool, callable, float, hash, int, len, next, object, str, type  # noqa: UP029
from collections.abc import Awaitable, Coroutine, Iterable, Iterator, Mapping, Sequence
from typing import Any, Callable, Generic, Literal, Optional, TypeVar, cast, overload

from ._aload import aget_with as load_async
from ._docstrings import MOKA as MOKA_DOCS
from ._entry import Entry
from ._expiry import (
    EXPLICIT,
    REPLACED,
    deadline_of,
    expire_after_create,
    expire_after_read,
    expire_after_update,
    invalidate_cause,
    is_valid,
    upsert_cause,
)
from ._housekeeper import (
    READ_LOG_CAPACITY,
    READ_LOG_FLUSH_POINT,
    WRITE_LOG_FLUSH_POINT,
    Housekeeper,
)
from ._keymap import Bucket, find, probe, put, unmap
from ._policy import Event, Policy, WriteOp
from ._refresh import refresh_ns, reload_if_due
from ._stats import CacheStats, make_stats
from ._validation import (
    TINY_LFU,
    check_capacity,
    check_initializer,
    check_optional_callable,
    check_policy,
    check_weight,
    duration_ns,
)

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")

Cause = Literal["explicit", "size", "expired", "replaced"]
"""Why an entry left the cache, as passed to an eviction listener."""

PolicyName = Literal["tiny_lfu", "lru"]

BACKEND_NAME = "pure"


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()

# get_with waiter states (moka's WaiterValue)
_COMPUTING = 0
_READY = 1
_FAILED = 2  # the initializer raised an Exception: every waiter gets the same object
_ABANDONED = 3  # a BaseException (KeyboardInterrupt, ...) ended the owner: waiters retry

# Which validity test the lock-free get applies, chosen at construction (and by clear()).
_CHECK_NONE = 0  # no cache-wide ttl/tti, no invalidation: only a per-entry deadline
_CHECK_TTL = 1  # a cache-wide ttl only
_CHECK_FULL = 2  # anything else: the locked path runs is_valid

_StatTotals = tuple[int, int, int, int, int, dict[str, int], int]
_ZERO_STATS: _StatTotals = (0, 0, 0, 0, 0, dict.fromkeys(("explicit", "size", "expired", "replaced"), 0), 0)


def _pairs(what: str, items: Any) -> Iterator[tuple[Any, Any]]:
    """The ``(key, value)`` pairs of a mapping (anything with ``keys()``, as ``dict.update``
    reads it) or of an iterable of pairs; a bad argument or item raises ``TypeError``."""
    if hasattr(items, "keys"):
        for key in items.keys():  # noqa: SIM118 (as dict.update: keys(), then items[key])
            yield key, items[key]
        return
    try:
        pairs = iter(items)
    except TypeError:
        raise TypeError(
            f"{what} expects a mapping or an iterable of (key, value) pairs, "
            f"not {type(items).__name__}"
        ) from None
    for index, pair in enumerate(pairs):
        try:
            key, value = pair
        except (TypeError, ValueError):
            raise TypeError(
                f"{what}: item {index} is not a (key, value) pair: {pair!r}"
            ) from None
        yield key, value


def _iterate(what: str, keys: Any) -> Iterator[Any]:
    try:
        return iter(keys)
    except TypeError:
        raise TypeError(f"{what} expects an iterable of keys, not {type(keys).__name__}") from None


_RECURSION_MESSAGE = "get_with: the initializer for this key called get_with for the same key"


class _Waiter:
    """One in-flight ``get_with`` initialization (moka's ``Waiter``).

    ``done`` is a bare lock, held until the result is published: unlike ``threading.Event`` (Python
    code that calls ``len``), waiting on it looks up no builtin that user code may have replaced.
    """

    __slots__ = ("done", "key", "owner", "result", "state")

    def __init__(self, owner: int, key: Any) -> None:
        self.owner = owner
        self.key = key
        self.done = threading.Lock()
        self.done.acquire()
        self.state = _COMPUTING
        self.result: Any = None

    def wait(self) -> None:
        # Wake at least every 100 ms so the main thread can run signal handlers (Ctrl-C).
        while not self.done.acquire(timeout=0.1):
            pass
        self.done.release()  # for the next waiter

    def publish(self, state: int, result: Any) -> None:
        self.result = result
        self.state = state
        self.done.release()


def _deliver(listener: Callable[[Any, Any, str], object], events: Sequence[Event]) -> None:
    """Call the listener for every event; then raise the first exception it raised, if any."""
    first: BaseException | None = None
    for key, value, cause in events:
        try:
            listener(key, value, cause)
        except BaseException as exc:
            if first is None:
                first = exc
    if first is not None:
        raise first


class Moka(Generic[K, V]):
    # A concurrent cache running moka 0.12.16's algorithms in pure Python. The public docstrings
    # (moka_py.Moka's, from moka_py/_typing.pyi) are applied below the class by _show_public_face.

    __slots__ = (
        "__weakref__",
        "_acquire",
        "_capacity",
        "_check",
        "_clock",
        "_count",
        "_disabled",
        "_disabled_misses",
        "_events",
        "_hk",
        "_listener",
        "_load_failures",
        "_load_ns",
        "_loads",
        "_lock",
        "_map",
        "_origin",
        "_policy",
        "_policy_name",
        "_release",
        "_rlog",
        "_slack",
        "_stats_base",
        "_trigger_at",
        "_tti",
        "_tti_ns",
        "_ttl",
        "_ttl_ns",
        "_unlogged",
        "_va",
        "_waiters",
        "_weigher",
        "_wlog",
        "_written",
        "_wsize",
    )

    def __init__(
        self,
        capacity: int | None,
        ttl: float | None = None,
        tti: float | None = None,
        eviction_listener: Callable[[K, V, Cause], object] | None = None,
        policy: PolicyName = "tiny_lfu",
        weigher: Callable[[K, V], int] | None = None,
    ) -> None:
        self._setup(capacity, ttl, tti, eviction_listener, policy, weigher, time.monotonic_ns)

    @classmethod
    def _with_clock(
        cls,
        clock: Callable[[], int],
        capacity: int | None,
        ttl: float | None = None,
        tti: float | None = None,
        eviction_listener: Callable[[K, V, Cause], object] | None = None,
        policy: PolicyName = "tiny_lfu",
        weigher: Callable[[K, V], int] | None = None,
    ) -> Moka[K, V]:
        """A cache whose time is ``clock()`` (integer nanoseconds, any origin): for tests.

        A separate constructor, not a keyword of ``__init__``, so that ``Moka(...)`` takes exactly
        the contract's arguments on every backend (an unknown keyword is a ``TypeError`` here too).
        """
        cache = cls.__new__(cls)
        cache._setup(capacity, ttl, tti, eviction_listener, policy, weigher, clock)
        return cache

    def _setup(
        self,
        capacity: int | None,
        ttl: float | None,
        tti: float | None,
        eviction_listener: Callable[[K, V, Cause], object] | None,
        policy: PolicyName,
        weigher: Callable[[K, V], int] | None,
        clock: Callable[[], int],
    ) -> None:
        cap = check_capacity(capacity)
        ttl_ns = duration_ns("ttl", ttl)
        tti_ns = duration_ns("tti", tti)
        check_optional_callable("eviction_listener", eviction_listener)
        policy_name = check_policy(policy)
        check_optional_callable("weigher", weigher)

        origin = clock()

        def cache_time() -> int:
            return clock() - origin

        self._capacity = cap
        self._ttl = None if ttl is None else float(ttl)
        self._tti = None if tti is None else float(tti)
        self._policy_name = cast(PolicyName, policy_name)
        self._clock = clock
        self._origin = origin
        self._map: dict[int, Any] = {}  # hash(key) -> Entry, or a Bucket of colliding entries
        self._rlog: list[Any] = []
        self._wlog: list[WriteOp] = []
        self._events: list[Event] = []
        self._lock = threading.RLock()
        # Bound methods + try/finally are measurably faster than `with self._lock:` on the hot paths.
        self._acquire = self._lock.acquire
        self._release = self._lock.release
        self._listener = cast(Optional[Callable[[Any, Any, str], object]], eviction_listener)
        self._weigher = cast(Optional[Callable[[Any, Any], Any]], weigher)
        self._ttl_ns = ttl_ns
        self._tti_ns = tti_ns
        self._va: int | None = None
        if tti_ns is not None:
            self._check = _CHECK_FULL
        else:
            self._check = _CHECK_NONE if ttl_ns is None else _CHECK_TTL
        self._disabled = cap == 0  # moka's "map disabled"
        self._count = 0
        self._wsize = 0
        # The size bound (API.md section 6): the weight written since housekeeping last ran at the
        # cache's own request never passes the slack, min(64, capacity // 8); so what the map holds,
        # admitted or still queued, stays within capacity + slack (see _insert).
        self._slack = None if cap is None or cap == 0 else min(64, cap // 8)
        self._written = 0
        # Keyed by hash(key), so that unregistering a waiter never runs the key's __hash__ or
        # __eq__: if those raised there, the waiter would stay registered and block the key.
        self._waiters: dict[int, list[_Waiter]] = {}
        self._policy = Policy(
            self._map,
            self._events,
            eviction_listener is not None,
            cap,
            policy_name == TINY_LFU,
            weigher is not None,
            ttl_ns,
            tti_ns,
            cache_time,
            0,
        )
        # The Rust backend always gives moka a listener (to count evictions), so moka always keeps
        # the "work left" flag: so does this one.
        self._hk = Housekeeper(True, cap == 0, 0)
        self._trigger_at = self._hk.trigger_at
        # Statistics: hits and misses are the read records (counted when housekeeping applies
        # them, see stats()), plus the records moka would drop (_unlogged) and the misses of a
        # cache of capacity 0, which records nothing.
        self._unlogged: list[Any] = []
        self._disabled_misses = 0
        self._loads = 0
        self._load_failures = 0
        self._load_ns = 0
        self._stats_base = _ZERO_STATS

    # -- properties and dunder methods ------

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
    def policy(self) -> PolicyName:
        return self._policy_name

    def __repr__(self) -> str:
        return (
            f"Moka(capacity={self._capacity!r}, ttl={self._ttl!r}, tti={self._tti!r}, "
            f"policy={self._policy_name!r}, backend={BACKEND_NAME!r})"
        )

    def __class_getitem__(cls, item: Any) -> Any:
        return types.GenericAlias(cls, item)

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")

    def __reduce__(self) -> Any:
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")

    def __copy__(self) -> Any:
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")

    def __deepcopy__(self, memo: Any) -> Any:
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")

    # -- internals ------

    def _housekeep(self) -> None:
        """Run one cycle (lock held) and publish the counters, like moka at the end of a cycle."""
        policy = self._policy
        self._trigger_at = self._hk.run(policy, self._rlog, self._wlog)
        self._count = policy.ec
        self._wsize = policy.ws
        if self._unlogged:
            self._count_unlogged()

    def _count_unlogged(self) -> None:
        """Move the dropped read records' counts into the statistics (lock held)."""
        records = self._unlogged[:]
        del self._unlogged[: len(records)]  # lock-free reads may append meanwhile
        misses = sum(1 for r in records if type(r) is int)
        self._policy.read_misses += misses
        self._policy.read_hits += len(records) - misses

    def _take_events(self) -> list[Event]:
        events = self._events[:]
        del self._events[:]
        return events

    def _insert(
        self, key: Any, h: int, value: Any, pttl: int | None, ptti: int | None
    ) -> Sequence[Event]:
        """moka's ``insert_with_hash``; returns the listener events to deliver (lock released)."""
        if self._disabled:
            return ()
        weigher = self._weigher
        weight = 1 if weigher is None else check_weight(weigher(key, value))
        self._acquire()
        try:
            now = self._clock() - self._origin
            m = self._map
            e = x = m.get(h)
            if x is not None and (k := x.key) is not key and not k == key:  # noqa: SIM201 (dict: ==)
                e = probe(x, key)  # a hash collision
            op: WriteOp
            if e is None:
                if type(key) is int and h == key:
                    h = key  # an int is its own hash: keep one int object per entry, not two
                e = Entry(key, h, value, weight, now, pttl, ptti)
                if pttl is not None or ptti is not None:
                    expire_after_create(e, now)
                if x is None:
                    m[h] = e
                else:
                    put(m, e)  # a collision (re-read: a key's __eq__ may have run meanwhile)
                op = (e, 1, 0, weight, key)
            else:
                # An update, also over an expired-but-present entry (moka's on_modify path).
                old_weight = e.weight
                old_value = e.value
                old_la = e.la  # for the cause below
                old_lm = e.lm
                # The value first: a lock-free get that sees the new timestamps must not return the
                # old value (which may have expired); new value + old timestamps reads as a miss or a
                # hit of the new value, like a read just before or after this write.
                e.value = value
                gen = (e.gen + 1) & 0xFFFF
                e.gen = gen
                e.la = now
                e.lm = now
                e.weight = weight
                e.mkey = key
                e.pttl = pttl
                e.ptti = ptti
                if e.exp is not None or pttl is not None or ptti is not None:
                    expire_after_update(e, now, self._ttl_ns, self._tti_ns)
                # Counted in the statistics even without a listener (see Policy.notify).
                ttl_ns, tti_ns, va = self._ttl_ns, self._tti_ns, self._va
                if ttl_ns is None and tti_ns is None and va is None and self._listener is None:
                    # Always "replaced", nothing to queue: Policy.notify's count, inlined (the two
                    # calls cost a replacing set ~30 %).
                    self._policy.evictions[REPLACED] += 1
                else:
                    cause = upsert_cause(old_la, old_lm, now, ttl_ns, tti_ns, va)
                    self._policy.notify(key, old_value, cause, old_weight)
                op = (e, gen, old_weight, weight, key)
            wlog = self._wlog
            if len(wlog) >= WRITE_LOG_FLUSH_POINT or now >= self._trigger_at:
                self._housekeep()
            wlog.append(op)
            slack = self._slack
            if slack is not None:
                # The size bound: once more than the slack is queued, the write settles it (moka's
                # inline cycles above do not reset the count: the Rust backend cannot see them, and
                # both must decide alike).  At capacity < 8 every write settles: nothing stays
                # queued, so reads always find their entry admitted (lru_cache's order, with "lru").
                written = self._written + weight
                if written > slack:
                    self._housekeep()
                    written = 0
                self._written = written
            if not self._events:
                return ()  # a constant: no list is built for the common case
            return self._take_events()
        finally:
            self._release()

    def _find_live(self, key: Any, h: int) -> tuple[Entry, int] | None:
        """The live entry of ``key`` and the time it was judged at; under the lock, touches nothing."""
        e = find(self._map, h, key)
        if e is None:
            return None
        now = self._clock() - self._origin
        if not is_valid(e, now, self._ttl_ns, self._tti_ns, self._va):
            return None
        return e, now

    def _peek(self, key: Any, h: int) -> Any:
        """moka's ``get_with_hash_without_recording``: touches the entry, records nothing."""
        with self._lock:
            found = self._find_live(key, h)
            if found is None:
                return _MISSING
            e, now = found
            if e.ptti is not None:
                if e.lm > now:
                    now = e.lm
                expire_after_read(e, now, self._ttl_ns, self._tti_ns)
            e.la = now
            return e.value

    # -- public API ------

    @overload
    def get(self, /, key: K) -> V | None: ...

    @overload
    def get(self, /, key: K, default: D) -> V | D: ...

    def get(self, /, key: Any, default: Any = None) -> Any:
        # Lock-free like moka's reads (see _record_read); only an entry with a per-entry tti (whose
        # read hook rewrites its deadline) takes the locked path. The lookup is dict's, spelled out
        # (see _keymap): it reads one slot of the map, and a collision bucket is an immutable
        # snapshot, so a concurrent write is seen entirely or not.
        h = hash(key)
        e = self._map.get(h)
        # `not ==`, never `!=`: dict compares keys with __eq__ only
        if e is not None and (k := e.key) is not key and not k == key:  # noqa: SIM201
            e = probe(e, key)  # a hash collision
        now = self._clock() - self._origin
        if e is None:
            if self._disabled:
                return self._disabled_miss(default)
            rlog = self._rlog
            if len(rlog) < READ_LOG_FLUSH_POINT and now < self._trigger_at:
                rlog.append(h)  # a Miss record
                return default
            return self._record_read(h, now, default)
        check = self._check
        if (
            ((x := e.exp) is None or x > now)
            and e.ptti is None
            and (
                check == _CHECK_NONE
                or (check == _CHECK_TTL and e.lm + self._ttl_ns > now)
            )
        ):
            e.la = now
            value = e.value
            rlog = self._rlog
            if len(rlog) < READ_LOG_FLUSH_POINT and now < self._trigger_at:
                rlog.append(e)
                return value
            return self._record_read(e, now, value)
        return self._get_locked(key, h, default)

    def _record_read(self, rec: Any, now: int, result: Any) -> Any:
        """Queue a read record, running housekeeping first when it is due; returns ``result``.

        No lock is needed to queue: ``list.append`` is atomic under the GIL and housekeeping drains
        the log with ``del log[:n]``, so a record queued meanwhile is kept for the next cycle.  When
        a cycle is due it is try-locked like moka's ``try_run_pending_tasks``: if another thread
        holds the lock the read does not wait, and its record is dropped once the log holds
        ``READ_LOG_CAPACITY`` records (moka's full read channel).  (Free-threaded builds are out of
        scope: this relies on the GIL.)
        """
        rlog = self._rlog
        if len(rlog) < READ_LOG_FLUSH_POINT and now < self._trigger_at:
            rlog.append(rec)
            return result
        if not self._acquire(False):
            if len(rlog) < READ_LOG_CAPACITY:
                rlog.append(rec)
            else:
                self._unlogged.append(rec)  # dropped, as moka does; still counted in stats()
            return result
        try:
            self._housekeep()
            rlog.append(rec)
            if not self._events:
                return result
            events = self._take_events()
        finally:
            self._release()
        listener = self._listener
        assert listener is not None
        _deliver(listener, events)
        return result

    def _get_locked(self, key: Any, h: int, default: Any) -> Any:
        """``get`` for the cases the lock-free path leaves: expiry checks and per-entry tti reads."""
        self._acquire()
        try:
            e = find(self._map, h, key)
            now = self._clock() - self._origin
            if e is not None and is_valid(e, now, self._ttl_ns, self._tti_ns, self._va):
                rec: Any = e
                if e.ptti is not None:
                    if e.lm > now:
                        now = e.lm
                    if expire_after_read(e, now, self._ttl_ns, self._tti_ns):
                        rec = (e,)
                e.la = now
                value = e.value
                rlog = self._rlog
                if len(rlog) >= READ_LOG_FLUSH_POINT or now >= self._trigger_at:
                    self._housekeep()
                rlog.append(rec)
                if not self._events:
                    return value
                events = self._take_events()
            else:
                if self._disabled:
                    self._disabled_misses += 1
                    return default
                rlog = self._rlog
                if len(rlog) >= READ_LOG_FLUSH_POINT or now >= self._trigger_at:
                    self._housekeep()
                rlog.append(h)
                if not self._events:
                    return default
                events = self._take_events()
                value = default
        finally:
            self._release()
        listener = self._listener
        assert listener is not None
        _deliver(listener, events)
        return value

    def set(self, /, key: K, value: V, ttl: float | None = None, tti: float | None = None) -> None:
        if ttl is None and tti is None:
            pttl = ptti = None
        else:
            pttl = duration_ns("ttl", ttl)
            ptti = duration_ns("tti", tti)
        events = self._insert(key, hash(key), value, pttl, ptti)
        if events:
            assert self._listener is not None
            _deliver(self._listener, events)

    def get_with(
        self,
        /,
        key: K,
        initializer: Callable[[], V],
        ttl: float | None = None,
        tti: float | None = None,
        refresh_after: float | None = None,
    ) -> V:
        # Refresh-ahead (moka_py_pure._refresh): a hit on an entry this old starts a reload.
        refresh = None if refresh_after is None else refresh_ns(refresh_after, ttl, self._ttl)
        if not callable(initializer):
            check_initializer(initializer)
        if ttl is None and tti is None:
            pttl = ptti = None
        else:
            pttl = duration_ns("ttl", ttl)
            ptti = duration_ns("tti", tti)
        # The first lookup is a recorded read: ``get``'s code, inlined, because a call to ``get``
        # added about 14 % to a hit (callgrind, instructions per call).
        h = hash(key)
        e = self._map.get(h)
        if e is not None and (k := e.key) is not key and not k == key:  # noqa: SIM201 (dict: ==)
            e = probe(e, key)  # a hash collision
        now = self._clock() - self._origin
        if e is None:
            if not self._disabled:
                self._record_read(h, now, None)  # a Miss record
            else:
                self._disabled_miss(None)
        elif (
            ((x := e.exp) is None or x > now)
            and e.ptti is None
            and (
                (check := self._check) == _CHECK_NONE
                or (check == _CHECK_TTL and e.lm + self._ttl_ns > now)
            )
        ):
            # get's lock-free hit (see get and _record_read)
            e.la = now
            found: V = e.value
            rlog = self._rlog
            if len(rlog) < READ_LOG_FLUSH_POINT and now < self._trigger_at:
                rlog.append(e)
            else:
                found = self._record_read(e, now, found)
            if refresh is not None and now - e.lm >= refresh:
                reload_if_due(self, key, refresh, initializer, ttl, tti)
            return found
        elif (found := self._get_locked(key, h, _MISSING)) is not _MISSING:
            if refresh is not None:  # the age is read under the lock, by reload_if_due
                reload_if_due(self, key, refresh, initializer, ttl, tti)
            return found
        value: V = self._init_or_read(key, h, initializer, pttl, ptti)
        return value

    def aget_with(
        self,
        /,
        key: K,
        initializer: Callable[[], Awaitable[V]],
        ttl: float | None = None,
        tti: float | None = None,
        refresh_after: float | None = None,
    ) -> Coroutine[Any, Any, V]:
        if not callable(initializer):
            check_initializer(initializer)
        if ttl is not None or tti is not None:
            duration_ns("ttl", ttl)
            duration_ns("tti", tti)
        refresh = None if refresh_after is None else refresh_ns(refresh_after, ttl, self._ttl)
        return load_async(self, key, initializer, ttl, tti, refresh)

    def _write_stamp(self, key: Any, /) -> tuple[tuple[Entry, int], int] | None:
        """Refresh-ahead's view of the live entry: ``((entry, generation), age_ns)``, or None."""
        with self._lock:
            found = self._find_live(key, hash(key))
            if found is None:
                return None
            e, now = found
            return (e, e.gen), now - e.lm

    def _replace_if(
        self, key: Any, stamp: tuple[Entry, int], value: Any, ttl: float | None, tti: float | None, /
    ) -> bool:
        """``set``, only if the live entry of ``key`` still holds the write ``stamp`` names."""
        pttl = duration_ns("ttl", ttl)
        ptti = duration_ns("tti", tti)
        h = hash(key)
        self._acquire()  # re-entrant: _insert takes it again, so check and write are one section
        try:
            found = self._find_live(key, h)
            if found is None or found[0] is not stamp[0] or found[0].gen != stamp[1]:
                return False
            events = self._insert(key, h, value, pttl, ptti)
        finally:
            self._release()
        if events:
            assert self._listener is not None
            _deliver(self._listener, events)
        return True

    def _init_or_read(
        self,
        key: Any,
        h: int,
        initializer: Callable[[], Any],
        pttl: int | None,
        ptti: int | None,
    ) -> Any:
        """``ValueInitializer::try_init_or_read``: coalesce concurrent initializations of a key."""
        me = threading.get_ident()
        while True:
            with self._lock:
                bucket = self._waiters.get(h, ())
                # dict semantics: identity first, then the registered key's __eq__
                waiter = next((w for w in bucket if w.key is key or bool(w.key == key)), None)
                if waiter is None:
                    waiter = _Waiter(me, key)
                    self._waiters.setdefault(h, []).append(waiter)
                    break
                if waiter.owner == me:
                    raise RuntimeError(_RECURSION_MESSAGE)
            waiter.wait()
            if waiter.state == _READY:
                return waiter.result
            if waiter.state == _FAILED:
                raise waiter.result
            # _ABANDONED: the owner died of a BaseException; try again (one of us becomes the owner).

        events: Sequence[Event] = ()
        loading = False
        started = 0
        try:
            value = self._peek(key, h)
            if value is _MISSING:
                loading = True
                started = time.perf_counter_ns()
                value = initializer()
                loading = False
                self._count_load(started, False)
                events = self._insert(key, h, value, pttl, ptti)
        except Exception as exc:
            if loading:
                self._count_load(started, True)
            self._publish(h, waiter, _FAILED, exc)
            raise
        except BaseException:
            if loading:
                self._count_load(started, True)
            self._publish(h, waiter, _ABANDONED, None)
            raise
        self._publish(h, waiter, _READY, value)
        if events:
            assert self._listener is not None
            _deliver(self._listener, events)
        return value

    def _publish(self, h: int, waiter: _Waiter, state: int, result: Any) -> None:
        with self._lock:
            bucket = self._waiters.get(h, [])
            if waiter in bucket:  # identity: _Waiter has no __eq__
                bucket.remove(waiter)
                if not bucket:
                    del self._waiters[h]
        waiter.publish(state, result)

    @overload
    def remove(self, /, key: K) -> V | None: ...

    @overload
    def remove(self, /, key: K, default: D) -> V | D: ...

    def remove(self, /, key: Any, default: Any = None) -> Any:
        value = self._remove(key, hash(key), _MISSING)
        return default if value is _MISSING else value

    def _remove(self, key: Any, h: int, only: Any) -> Any:
        """The removal path of every removing call: the removed value, or ``_MISSING``.

        ``only``: ``(entry, generation)``: remove only that entry, not written since (``_MISSING``:
        whatever is stored).
        Delivers the call's listener events.
        """
        self._acquire()
        try:
            if self._weigher is not None:
                # Apply the queued writes first, so that none of this key's is still queued when
                # its entry leaves the map: moka 0.12.16 would skip it and keep its weighted size
                # off by the weight that write changed (docs/internals/moka-algorithms.md,
                # "Removing from a weighted cache").  The Rust backend does the same.
                self._housekeep()
                self._written = 0
            value = self._unlink(key, h, only)
            if not self._events:
                return value
            events = self._take_events()
        finally:
            self._release()
        listener = self._listener
        assert listener is not None
        _deliver(listener, events)
        return value

    def _unlink(self, key: Any, h: int, only: Any) -> Any:
        """moka's ``invalidate`` under the lock: the removed value, or ``_MISSING``."""
        m = self._map
        e = m.get(h)
        if e is None:
            return _MISSING
        if e.key is key:
            if only is not _MISSING and (e is not only[0] or e.gen != only[1]):
                return _MISSING
            del m[h]
            e.retired = True
        else:
            if not e.key == key:  # noqa: SIM201 (dict: ==)
                e = probe(e, key)  # a hash collision
            if e is None or (only is not _MISSING and (e is not only[0] or e.gen != only[1])):
                return _MISSING
            # unmap by identity: a key's __eq__ may have changed the map meanwhile
            if not unmap(m, e):
                return _MISSING
        now = self._clock() - self._origin
        e.gen = (e.gen + 1) & 0xFFFF
        value = e.value
        ttl_ns, tti_ns = self._ttl_ns, self._tti_ns
        if ttl_ns is None and tti_ns is None and self._listener is None:
            self._policy.evictions[EXPLICIT] += 1  # Policy.notify's count, inlined (as in _insert)
        else:
            cause = invalidate_cause(e.la, e.lm, now, ttl_ns, tti_ns)
            self._policy.notify(e.mkey, value, cause, e.weight)
        wlog = self._wlog
        if len(wlog) >= WRITE_LOG_FLUSH_POINT or now >= self._trigger_at:
            self._housekeep()
        wlog.append(e)  # a remove record (see WriteOp)
        return value

    def __contains__(self, key: object, /) -> bool:
        # moka's contains_key: not a recorded read
        h = hash(key)
        with self._lock:
            return self._find_live(key, h) is not None

    def clear(self, /) -> None:
        # moka's invalidate_all, then a housekeeping run (pending inserts are settled first)
        with self._lock:
            now = self._clock() - self._origin
            policy = self._policy
            # moka removes entries written strictly before the invalidation instant.  Entries written in
            # the same clock tick as the clear (possible with a coarse clock, practically never with
            # moka's nanosecond Instant) must go too, so the scan uses now + 1; afterwards the instant is
            # `now`, so a write in that same tick after the clear stays valid.
            policy.va = now + 1
            self._va = now + 1
            self._check = _CHECK_FULL
            self._housekeep()
            self._written = 0
            policy.va = now
            self._va = now
            if not self._events:
                return
            events = self._take_events()
            listener = self._listener
            assert listener is not None
        _deliver(listener, events)

    def run_pending_tasks(self, /) -> None:
        with self._lock:
            self._housekeep()
            self._written = 0
            if not self._events:
                return
            events = self._take_events()
            listener = self._listener
            assert listener is not None
        _deliver(listener, events)

    def count(self, /) -> int:
        # moka's entry_count
        return self._count

    def weighted_size(self, /) -> int:
        return self._wsize

    # -- looking into the cache, and working in bulk (API.md section 7) ------

    def _disabled_miss(self, default: Any) -> Any:
        """A read of a cache of capacity 0: moka records nothing, the statistics count a miss."""
        with self._lock:
            self._disabled_misses += 1
        return default

    def _count_load(self, started: int, failed: bool) -> None:
        self._record_load(time.perf_counter_ns() - started, failed)

    def _record_load(self, elapsed: int, failed: bool, /) -> None:
        """An initializer ran for ``elapsed`` ns (and raised, if ``failed``): the load statistics."""
        with self._lock:
            self._loads += 1
            self._load_ns += elapsed
            if failed:
                self._load_failures += 1

    def _live(self) -> list[Entry]:
        """The entries ``get`` would return now (lock held), in map order."""
        now = self._clock() - self._origin
        ttl, tti, va = self._ttl_ns, self._tti_ns, self._va
        live = []
        for x in self._map.values():
            for e in x if type(x) is Bucket else (x,):
                if is_valid(e, now, ttl, tti, va):
                    live.append(e)
        return live

    def __len__(self, /) -> int:
        with self._lock:
            return len(self._live())

    def __bool__(self, /) -> bool:
        with self._lock:
            now = self._clock() - self._origin
            ttl, tti, va = self._ttl_ns, self._tti_ns, self._va
            for x in self._map.values():
                for e in x if type(x) is Bucket else (x,):
                    if is_valid(e, now, ttl, tti, va):
                        return True
            return False

    def __iter__(self, /) -> Iterator[K]:
        return iter(self.keys())

    def keys(self, /) -> list[K]:
        with self._lock:
            return [e.mkey for e in self._live()]

    def values(self, /) -> list[V]:
        with self._lock:
            return [e.value for e in self._live()]

    def items(self, /) -> list[tuple[K, V]]:
        with self._lock:
            return [(e.mkey, e.value) for e in self._live()]

    def __getitem__(self, key: K, /) -> V:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return cast(V, value)

    def __setitem__(self, key: K, value: V, /) -> None:
        self.set(key, value)

    def __delitem__(self, key: K, /) -> None:
        if self._remove(key, hash(key), _MISSING) is _MISSING:
            raise KeyError(key)

    @overload
    def pop(self, /, key: K) -> V: ...

    @overload
    def pop(self, /, key: K, default: D) -> V | D: ...

    def pop(self, /, key: Any, default: Any = _MISSING) -> Any:
        value = self._remove(key, hash(key), _MISSING)
        if value is not _MISSING:
            return value
        if default is _MISSING:
            raise KeyError(key)
        return default

    @overload
    def setdefault(self, /, key: K) -> V | None: ...

    @overload
    def setdefault(self, /, key: K, default: V) -> V: ...

    def setdefault(self, /, key: Any, default: Any = None) -> Any:
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

    @overload
    def peek(self, /, key: K) -> V | None: ...

    @overload
    def peek(self, /, key: K, default: D) -> V | D: ...

    def peek(self, /, key: Any, default: Any = None) -> Any:
        h = hash(key)
        with self._lock:
            found = self._find_live(key, h)
            return default if found is None else found[0].value

    @overload
    def expires_in(self, /, key: K) -> float | None: ...

    @overload
    def expires_in(self, /, key: K, default: D) -> float | D: ...

    def expires_in(self, /, key: Any, default: Any = None) -> Any:
        h = hash(key)
        with self._lock:
            found = self._find_live(key, h)
            if found is None:
                return default
            e, now = found
            deadline = deadline_of(e, self._ttl_ns, self._tti_ns)
        return math.inf if deadline is None else (deadline - now) / 1e9

    def get_many(self, /, keys: Iterable[K]) -> dict[K, V]:
        found: dict[K, V] = {}
        for key in _iterate("get_many", keys):
            value = self.get(key, _MISSING)
            if value is not _MISSING:
                found[key] = value
        return found

    def set_many(
        self,
        /,
        items: Mapping[K, V] | Iterable[tuple[K, V]],
        ttl: float | None = None,
        tti: float | None = None,
    ) -> None:
        if ttl is not None or tti is not None:
            duration_ns("ttl", ttl)
            duration_ns("tti", tti)
        for key, value in _pairs("set_many", items):
            self.set(key, value, ttl, tti)

    def remove_many(self, /, keys: Iterable[K]) -> dict[K, V]:
        removed: dict[K, V] = {}
        for key in _iterate("remove_many", keys):
            value = self._remove(key, hash(key), _MISSING)
            if value is not _MISSING:
                removed[key] = value
        return removed

    def remove_if(self, /, predicate: Callable[[K, V], object]) -> int:
        if not callable(predicate):
            raise TypeError(f"predicate must be callable, not {type(predicate).__name__}")
        self.run_pending_tasks()
        with self._lock:
            snapshot = [(e.mkey, e.value, (e, e.gen)) for e in self._live()]
        removed = 0
        for key, value, written in snapshot:
            if predicate(key, value) and self._remove(key, hash(key), written) is not _MISSING:
                removed += 1
        return removed

    def stats(self, /) -> CacheStats:
        with self._lock:
            totals = self._stat_totals()
        base = self._stats_base
        return make_stats(
            totals[0] - base[0],
            totals[1] - base[1],
            totals[2] - base[2],
            totals[3] - base[3],
            totals[4] - base[4],
            {cause: totals[5][cause] - base[5][cause] for cause in totals[5]},
            totals[6] - base[6],
        )

    def reset_stats(self, /) -> None:
        with self._lock:
            self._stats_base = self._stat_totals()

    def _stat_totals(self) -> _StatTotals:
        """Every counter since creation (lock held): read records applied, queued and dropped."""
        policy = self._policy
        hits = policy.read_hits
        misses = policy.read_misses + self._disabled_misses
        for records in (self._rlog[:], self._unlogged[:]):  # queued, or dropped since housekeeping
            queued_misses = sum(1 for r in records if type(r) is int)
            misses += queued_misses
            hits += len(records) - queued_misses
        return (
            hits,
            misses,
            self._loads,
            self._load_failures,
            self._load_ns,
            dict(policy.evictions),
            policy.evicted_weight,
        )

def _show_public_face(cls: type, docs: dict[str, str]) -> None:
    """Give ``cls`` and its public and special methods the contract's docstrings and plain signatures.

    ``docs`` is ``moka_py.Moka``'s one set of docstrings (see ``_docstrings``). Each public method's
    ``__signature__`` is its own without annotations: what ``help()`` shows of the compiled backend,
    whose signatures cannot carry any (the types are in the stubs, for both backends).
    """
    cls.__doc__ = docs[cls.__name__]
    for name, member in vars(cls).items():
        func = member.__func__ if isinstance(member, classmethod) else member
        if isinstance(member, property):
            member.__doc__ = docs[name]
        elif isinstance(func, types.FunctionType) and (name[0] != "_" or name.endswith("__")):
            if name in docs:
                func.__doc__ = docs[name]
            sig = inspect.signature(func)
            func.__signature__ = sig.replace(  # type: ignore[attr-defined]
                parameters=[p.replace(annotation=p.empty) for p in sig.parameters.values()],
                return_annotation=sig.empty,
            )


# pop's "no default given" is a sentinel; its signature shows it as `...`, as the Rust backend's does
_pop_signature = inspect.signature(Moka.pop)
Moka.pop.__signature__ = _pop_signature.replace(  # type: ignore[attr-defined]
    parameters=[
        p.replace(default=...) if p.name == "default" else p for p in _pop_signature.parameters.values()
    ]
)
_show_public_face(Moka, MOKA_DOCS)

