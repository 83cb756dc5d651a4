"""The pure floor: the least CPython code that makes moka's state changes, beside each pure target.

Issue #5's pure-backend targets are ratios to cachetools (or to the backend's own ``get`` hit).
The pure backend must make moka 0.12.14's decisions exactly (``docs/internals/moka-algorithms.md``),
so each operation owes some work whatever the implementation.  This group times that work alone:
a *floor cache* per policy, written as the smallest straight-line CPython that performs the state
changes moka's algorithm requires for the operation and nothing more, driven by the harness's own
operations (:data:`timing.OPS`, through :class:`FloorAdapter`: same capacity, keys, fill, loop
shape and calibration), in alternating rounds with the peer the target divides by, and with the
pure backend itself.  A floor above its target means the target cannot be met in CPython without
changing moka's algorithm; a floor below means there is room, and the report says so.

What every floor leaves out (it may only leave work out, never add any; the *logged* floors,
:class:`LruLoggedFloor` and ``LfuFloor(logged=True)``, put the deferral back, and :class:`WriteFloor`,
the ``set`` rows' write floor, the deferral and the lock; each says what it keeps):

* **The deferred logs.**  moka queues a read or write record and applies it in housekeeping; a
  floor applies the same change at once (sketch increment, LRU move, admission), which is the
  applying work without the queueing, the trigger checks and the drain loop.  So a floor also
  skips what only exists because of deferral: entry/policy generations (dirty tracking), the 64-
  record and 300 ms triggers, the published counters (``len`` of the map is the entry count), and
  the map insert of a candidate that admission then rejects (applied at once, a rejected key never
  enters the map; in moka it is readable until the next cycle).
* **Locks, argument checks, the listener, weights** (every entry weighs 1: no weigher), and the
  map keyed by ``hash(key)`` (the backend's shield against a key's ``__eq__`` running in
  housekeeping): a floor keys an ``OrderedDict`` by the key itself, which is also its access-order
  deque (``move_to_end`` is moka's move to the MRU end, ``popitem(last=False)`` its LRU-end pop).
* **Timestamps that only expiry reads.**  No cache-wide ttl: no clock read at all (moka's
  ``last_accessed`` and the 300 ms trigger need one; nothing here has a tti or a per-entry
  deadline).  With ``ttl``: one ``time.monotonic()`` (the fastest clock measured, see the
  components) and a float deadline per entry, ``written + ttl``.
* **Concurrency**: ``get_with`` has no waiter map (one thread, so nothing to coalesce).

What the tiny_lfu floors keep is moka's sketch arithmetic (``common/frequency_sketch.rs``) on the
hash the pure and Rust backends give moka (``fmix64(hash(k) mod 2**64)``), in the backend's layout
(one counter per byte of a ``bytearray``; the components time moka's packed ``u64`` words and a
``list`` too): four counters located from the hash, incremented unless saturated at 15, the
``size`` count and the halving reset at ``sample_size``.  An entry keeps its four counter positions
(computed once, at insert); a miss finds them in a bounded memo keyed by the key (the backend's
miss memo, keyed by ``hash(key)``), else computes them.  Before timing, :func:`check_sketch`
asserts that the floors' counters, ``size`` and admission decisions equal the backend's
``FrequencySketch`` on the same keys, so a floor cannot do less arithmetic than moka silently.

Per operation (the floor cache's code below is the whole of it):

* ``get`` hit (``get_hit_int``, ``get_hit_str``): map lookup; lru: move to the MRU end;
  tiny_lfu: also the sketch increment at the entry's positions.
* ``get`` miss: lru: the lookup only (moka's Miss record increments a sketch that LRU never
  enables); tiny_lfu: lookup, positions (memo, else computed), sketch increment.
* ``set`` replace: lookup, store the value, move to the MRU end (no sketch increment: moka's
  insert does not count).
* ``set`` of a new key into the full cache: lru: insert at the MRU end and pop the LRU end.
  tiny_lfu: the candidate's positions and frequency, then admission: moka admits only when the
  candidate's frequency is **strictly** above the victims', so a candidate of frequency 0 is
  rejected without reading the victim, and its frequency is 0 as soon as one of its four counters
  is: the floor computes the first position, and the other three only if that counter is not 0
  (in the bench the fill made no reads, every counter is 0, and every candidate is rejected so);
  otherwise the LRU victim's frequency (one victim: unit weights) decides, and an admitted
  candidate replaces it.  The components show what all four positions cost.
* ``get_with`` hit: ``get``'s hit path (moka records the first lookup as a read).
* ``remove``: one ``OrderedDict.pop`` (unlinks map entry and deque node; no sketch change).
* ``get`` hit with ttl: the tiny_lfu hit plus a clock read and the deadline test.
* ``@cached`` hit (with and without ttl): a ``*args, **kwargs`` wrapper, the key (a single int or
  str argument is its own key, else the args tuple), the ``get`` hit body inlined, and a
  ``count().__next__`` for ``cache_info()``'s hits (API.md requires the counter; it is
  thread-safe, unlike ``n += 1``).
"""

from __future__ import annotations

import random
import statistics
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from itertools import count
from typing import Any

import timing
from subjects import INIT, SUBJECTS, VALUE, Adapter, Call
from targets import TARGETS, item_id
from timing import Prepared, SpeedConfig

__all__ = ["FloorAdapter", "check_sketch", "run_pure_floor", "target_rows"]

Log = Callable[[str], None]

U64 = 0xFFFF_FFFF_FFFF_FFFF
U32 = 0xFFFF_FFFF
I32_MAX = 0x7FFF_FFFF
SEED0 = 0xC3A5C85C97CB3127  # moka's frequency_sketch.rs SEED[0..4]
SEED1 = 0xB492B66FBE98F273
SEED2 = 0x9AE16A3B2F90404F
SEED3 = 0xCBF29CE484222325
FMIX1 = 0xFF51AFD7ED558CCD  # murmur3 fmix64, the hash both backends give moka
FMIX2 = 0xC4CEB9FE1A85EC53
INC = (*range(1, 16), 15)
"""A counter's value after an increment (15 stays 15): a tuple index is the cheapest saturating add."""
HALVE = bytes(b >> 1 for b in range(256))
EVEN = bytes(range(0, 256, 2))
LOG_FLUSH_POINT = 64
"""Records of a log that trigger housekeeping (the backend's ``READ_LOG_FLUSH_POINT``, moka's too)."""
LOG_SYNC_INTERVAL_NS = 300_000_000
"""The 300 ms time trigger (the backend's ``LOG_SYNC_INTERVAL_NANOS``)."""
MAX_RETRIES = 5
"""moka's ``MAX_CONSECUTIVE_RETRIES``: admission scans on while ``retries <= 5``, so it skips at most 6
dirty victims in a row."""
EVICTION_BATCH_SIZE = 384
"""Attempts of one size-eviction pass (moka's ``DEFAULT_EVICTION_BATCH_SIZE``)."""
WRITE_SUFFIX = "-write"
"""``floor[POLICY-write]`` is :class:`WriteFloor`, timed for :data:`WRITE_OPS`."""
WRITE_OPS = frozenset({"set_replace", "set_evict"})
LFU_LOGGED = "tiny_lfu-logged"
"""``floor[tiny_lfu-logged]``: :class:`LfuFloor` with moka's read log, timed for :data:`LFU_LOGGED_OPS`."""
LFU_LOGGED_OPS = frozenset({"get_hit_int", "get_hit_str", "get_hit_ttl"})
MEMO_LIMIT = 1 << 16
"""Bound of the miss-positions memo (the backend's ``POSITIONS_MEMO_LIMIT``)."""
OWN_KEY_TYPES = frozenset({int, str})
"""Single arguments that are their own decorator key (as ``lru_cache`` does)."""

_MISSING: Any = object()


def sketch_dims(capacity: int) -> tuple[int, int]:
    """``(table_len, sample_size)`` of moka's sketch for a cache of ``capacity`` (unit weights)."""
    maximum = min(max(min(capacity, U32), 128), 1 << 30)  # sketch_capacity, then ensure_capacity
    return 1 << (maximum - 1).bit_length(), min(maximum * 10, U32, I32_MAX)


def positions(k: Hashable, mask: int) -> tuple[int, int, int, int]:
    """Byte indices of the four counters of key ``k`` (the arithmetic the floors inline)."""
    h = hash(k) & U64
    h ^= h >> 33
    h = (h * FMIX1) & U64
    h ^= h >> 33
    h = (h * FMIX2) & U64
    h ^= h >> 33
    s = (h & 3) << 2
    x = ((h + SEED0) * SEED0) & U64
    p0 = (((x + (x >> 32)) & mask) << 4) + s
    x = ((h + SEED1) * SEED1) & U64
    p1 = (((x + (x >> 32)) & mask) << 4) + s + 1
    x = ((h + SEED2) * SEED2) & U64
    p2 = (((x + (x >> 32)) & mask) << 4) + s + 2
    x = ((h + SEED3) * SEED3) & U64
    p3 = (((x + (x >> 32)) & mask) << 4) + s + 3
    return p0, p1, p2, p3


def reset(c: bytearray, size: int) -> int:
    """moka's sketch reset, in place: halve every counter; returns the new ``size`` (u32 arithmetic)."""
    odd = len(c.translate(None, EVEN)) & U32  # counters whose low bit is set
    c[:] = c.translate(HALVE)
    return ((size >> 1) - (odd >> 2)) & U32


# --------------------------------------------------------------------------------------- floor caches


class LruFloor:
    """The lru floor cache: one ``OrderedDict`` (map and access-order deque), nothing else."""

    def __init__(self, capacity: int) -> None:
        od: OrderedDict[Any, Any] = OrderedDict()
        self.od = od
        odget = od.get
        move = od.move_to_end
        popfront = od.popitem
        cap = capacity

        def get(k: Any, default: Any = None) -> Any:
            v = odget(k, _MISSING)
            if v is _MISSING:
                return default  # LRU's sketch is never enabled: a miss changes nothing
            move(k)
            return v

        def set_(k: Any, v: Any) -> None:
            if k in od:
                od[k] = v
                move(k)
            else:
                od[k] = v
                if len(od) > cap:
                    popfront(False)

        self.get = get
        self.set = set_
        self.remove = lambda k: od.pop(k, None)


class LruLoggedFloor:
    """The lru floor plus what moka's deferral costs a call: the clock read, the queued record and its
    batched drain (``floor[lru-logged]``).

    moka applies reads and writes in housekeeping, every 64 records of a log or 300 ms after the last
    cycle, reads before writes; *when* a cycle runs decides the LRU order it sees, so which entry an
    insert evicts depends on the clock as well as on the calls (a read queued behind an unapplied
    insert is skipped, for one).  Exact decisions need the clock read in every call and the records,
    so this floor keeps them and nothing else of the backend: no lock, no ``hash(key)``-keyed map,
    no entry object or timestamps (only expiry reads them), no checks.  A read record is the key
    (moved to the MRU end at the drain when still present; a Miss record applies nothing under
    LRU); a write record is the key too: a replaced entry moves to the MRU end, and the drain ends
    with the evictions a full cache owes (an insert stays readable until then, as in moka).  moka
    evicts while it applies each insert, this floor once after all records: the same pops, so the
    same cost (the victims would differ only if a queued update moved an entry at the LRU end, which
    the harness's loops never do).
    """

    def __init__(self, capacity: int) -> None:
        od: OrderedDict[Any, Any] = OrderedDict()
        self.od = od
        odget = od.get
        move = od.move_to_end
        popfront = od.popitem
        cap = capacity
        clock = time.monotonic_ns
        origin = clock()
        rlog: list[Any] = []
        wlog: list[Any] = []
        trigger = [origin + LOG_SYNC_INTERVAL_NS]

        def drain(now: int) -> None:
            for k in rlog:
                if k is not _MISSING and k in od:
                    move(k)
            rlog.clear()
            for k in wlog:
                if k in od:
                    move(k)
            wlog.clear()
            while len(od) > cap:
                popfront(False)
            trigger[0] = now + LOG_SYNC_INTERVAL_NS

        def get(k: Any, default: Any = None) -> Any:
            now = clock()
            v = odget(k, _MISSING)
            if len(rlog) >= LOG_FLUSH_POINT or now >= trigger[0]:
                drain(now)
            if v is _MISSING:
                rlog.append(_MISSING)  # a Miss record: LRU never enables the sketch it counts in
                return default
            rlog.append(k)
            return v

        def set_(k: Any, v: Any) -> None:
            now = clock()
            od[k] = v  # readable at once; its place in the order comes with the drain
            if len(wlog) >= LOG_FLUSH_POINT or now >= trigger[0]:
                drain(now)
            wlog.append(k)

        self.get = get
        self.set = set_
        self.remove = lambda k: od.pop(k, None)


class LfuFloor:
    """The tiny_lfu floor cache: an ``OrderedDict`` of ``[value, p0, p1, p2, p3, key(, deadline)]``
    entries, the sketch's counters in a ``bytearray``, and the miss-positions memo.

    ``ttl`` (seconds) gives every written entry a deadline and makes ``get`` and the decorator
    test it; without it no clock is read.

    ``logged`` (``floor[tiny_lfu-logged]``, the ``get`` rows only) puts back what moka's deferral
    costs a read, as :class:`LruLoggedFloor` does for lru: ``get`` reads the clock, queues a record
    (a hit: the entry, which holds its key for the drain's move; a miss: the key's four positions)
    and drains the log every 64 records or 300 ms, applying each record's sketch increment and move
    to the MRU end.  Its ``set`` (the fill) still applies at once; ``get_with`` and the decorator are
    the unlogged ones, which no logged row times.
    """

    def __init__(self, capacity: int, ttl: float | None = None, logged: bool = False) -> None:
        table, sample = sketch_dims(capacity)
        self.logged = logged
        mask = table - 1
        c = bytearray(16 * table)
        od: OrderedDict[Any, list[Any]] = OrderedDict()
        memo: dict[Any, tuple[int, int, int, int]] = {}
        self.counters = c
        self.od = od
        odget = od.get
        move = od.move_to_end
        popfront = od.popitem
        memoget = memo.get
        clock = time.monotonic
        inc = INC
        cap = capacity
        size = 0

        def get(k: Any, default: Any = None) -> Any:
            nonlocal size
            e = odget(k)
            if e is not None:
                move(k)
                v, p0, p1, p2, p3, _ = e
            else:
                v = default
                p = memoget(k)
                if p is None:
                    h = hash(k) & U64
                    h ^= h >> 33
                    h = (h * FMIX1) & U64
                    h ^= h >> 33
                    h = (h * FMIX2) & U64
                    h ^= h >> 33
                    s = (h & 3) << 2
                    x = ((h + SEED0) * SEED0) & U64
                    p0 = (((x + (x >> 32)) & mask) << 4) + s
                    x = ((h + SEED1) * SEED1) & U64
                    p1 = (((x + (x >> 32)) & mask) << 4) + s + 1
                    x = ((h + SEED2) * SEED2) & U64
                    p2 = (((x + (x >> 32)) & mask) << 4) + s + 2
                    x = ((h + SEED3) * SEED3) & U64
                    p3 = (((x + (x >> 32)) & mask) << 4) + s + 3
                    if len(memo) >= MEMO_LIMIT:
                        memo.clear()
                    memo[k] = (p0, p1, p2, p3)
                else:
                    p0, p1, p2, p3 = p
            x0 = c[p0]
            x1 = c[p1]
            x2 = c[p2]
            x3 = c[p3]
            if x0 & x1 & x2 & x3 != 15:  # some counter is below 15
                c[p0] = inc[x0]
                c[p1] = inc[x1]
                c[p2] = inc[x2]
                c[p3] = inc[x3]
                size += 1
                if size >= sample:
                    size = reset(c, size)
            return v

        def set_(k: Any, v: Any) -> None:
            e = odget(k)
            if e is not None:
                e[0] = v
                move(k)
                return
            h = hash(k) & U64
            h ^= h >> 33
            h = (h * FMIX1) & U64
            h ^= h >> 33
            h = (h * FMIX2) & U64
            h ^= h >> 33
            s = (h & 3) << 2
            x = ((h + SEED0) * SEED0) & U64
            p0 = (((x + (x >> 32)) & mask) << 4) + s
            full = len(od) >= cap
            if full and not c[p0]:
                return  # frequency 0 (the minimum of the four is 0): rejected, nothing is below 0
            x = ((h + SEED1) * SEED1) & U64
            p1 = (((x + (x >> 32)) & mask) << 4) + s + 1
            x = ((h + SEED2) * SEED2) & U64
            p2 = (((x + (x >> 32)) & mask) << 4) + s + 2
            x = ((h + SEED3) * SEED3) & U64
            p3 = (((x + (x >> 32)) & mask) << 4) + s + 3
            if full:
                f = c[p0]
                y = c[p1]
                if y < f:
                    f = y
                y = c[p2]
                if y < f:
                    f = y
                y = c[p3]
                if y < f:
                    f = y
                if not f:
                    return  # rejected: nothing can have a frequency below 0
                ve = od[next(iter(od))]  # the LRU victim (one: every entry weighs 1)
                y = c[ve[1]]
                z = c[ve[2]]
                if z < y:
                    y = z
                z = c[ve[3]]
                if z < y:
                    y = z
                z = c[ve[4]]
                if z < y:
                    y = z
                if f <= y:
                    return  # rejected (a tie rejects)
                popfront(False)
            od[k] = [v, p0, p1, p2, p3, k]

        def bump(p0: int, p1: int, p2: int, p3: int) -> None:
            """The sketch increment, for the paths no floor times."""
            nonlocal size
            x0 = c[p0]
            x1 = c[p1]
            x2 = c[p2]
            x3 = c[p3]
            if x0 & x1 & x2 & x3 != 15:
                c[p0] = inc[x0]
                c[p1] = inc[x1]
                c[p2] = inc[x2]
                c[p3] = inc[x3]
                size += 1
                if size >= sample:
                    size = reset(c, size)

        self.get = get
        self.set = set_
        self.remove = lambda k: None if (e := od.pop(k, None)) is None else e[0]
        def current_size() -> int:
            return size

        self.size = current_size

        def get_with(k: Any, init: Callable[[], Any]) -> Any:
            nonlocal size
            e = odget(k)
            if e is None:
                get(k)  # the recorded Miss
                v = init()
                set_(k, v)
                return v
            move(k)
            v, p0, p1, p2, p3, _ = e
            x0 = c[p0]
            x1 = c[p1]
            x2 = c[p2]
            x3 = c[p3]
            if x0 & x1 & x2 & x3 != 15:
                c[p0] = inc[x0]
                c[p1] = inc[x1]
                c[p2] = inc[x2]
                c[p3] = inc[x3]
                size += 1
                if size >= sample:
                    size = reset(c, size)
            return v

        self.get_with = get_with

        def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
            hit = count().__next__
            miss = count().__next__

            def wrapper(*args: Any, **kwargs: Any) -> Any:
                nonlocal size
                if kwargs:
                    k: Any = (args, tuple(kwargs.items()))
                elif len(args) == 1 and type(args[0]) in OWN_KEY_TYPES:
                    k = args[0]
                else:
                    k = args
                e = odget(k)
                if e is not None:
                    move(k)
                    v, p0, p1, p2, p3, _ = e
                    x0 = c[p0]
                    x1 = c[p1]
                    x2 = c[p2]
                    x3 = c[p3]
                    if x0 & x1 & x2 & x3 != 15:
                        c[p0] = inc[x0]
                        c[p1] = inc[x1]
                        c[p2] = inc[x2]
                        c[p3] = inc[x3]
                        size += 1
                        if size >= sample:
                            size = reset(c, size)
                    hit()
                    return v
                get(k)  # the recorded Miss
                miss()
                v = func(*args, **kwargs)
                set_(k, v)
                return v

            return wrapper

        self.decorate = decorate
        if ttl is not None:
            # --- with a cache-wide ttl: a deadline per entry, tested on every read
            life = ttl

            def set_ttl(k: Any, v: Any) -> None:
                set_(k, v)
                e = odget(k)
                if e is not None:
                    del e[6:]
                    e.append(clock() + life)

            def get_ttl(k: Any, default: Any = None) -> Any:
                nonlocal size
                e = odget(k)
                if e is not None:
                    v, p0, p1, p2, p3, _, d = e
                    if d > clock():
                        move(k)
                        x0 = c[p0]
                        x1 = c[p1]
                        x2 = c[p2]
                        x3 = c[p3]
                        if x0 & x1 & x2 & x3 != 15:
                            c[p0] = inc[x0]
                            c[p1] = inc[x1]
                            c[p2] = inc[x2]
                            c[p3] = inc[x3]
                            size += 1
                            if size >= sample:
                                size = reset(c, size)
                        return v
                    bump(p0, p1, p2, p3)  # expired: a Miss record, the same key hash
                    return default
                return get(k, default)

            def decorate_ttl(func: Callable[..., Any]) -> Callable[..., Any]:
                hit = count().__next__
                miss = count().__next__

                def wrapper(*args: Any, **kwargs: Any) -> Any:
                    nonlocal size
                    if kwargs:
                        k: Any = (args, tuple(kwargs.items()))
                    elif len(args) == 1 and type(args[0]) in OWN_KEY_TYPES:
                        k = args[0]
                    else:
                        k = args
                    e = odget(k)
                    if e is not None:
                        v, p0, p1, p2, p3, _, d = e
                        if d > clock():
                            move(k)
                            x0 = c[p0]
                            x1 = c[p1]
                            x2 = c[p2]
                            x3 = c[p3]
                            if x0 & x1 & x2 & x3 != 15:
                                c[p0] = inc[x0]
                                c[p1] = inc[x1]
                                c[p2] = inc[x2]
                                c[p3] = inc[x3]
                                size += 1
                                if size >= sample:
                                    size = reset(c, size)
                            hit()
                            return v
                    get_ttl(k)  # the recorded Miss
                    miss()
                    v = func(*args, **kwargs)
                    set_ttl(k, v)
                    return v

                return wrapper

            def get_with_ttl(k: Any, init: Callable[[], Any]) -> Any:
                v = get_ttl(k, _MISSING)  # (no target times it: not inlined)
                if v is _MISSING:
                    v = init()
                    set_ttl(k, v)
                return v

            self.set = set_ttl
            self.get = get_ttl
            self.get_with = get_with_ttl
            self.decorate = decorate_ttl

        if not logged:
            return

        # --- logged reads: the clock, a queued record, the batched drain (moka's read log)
        now_s = time.monotonic  # one clock for the trigger and the deadline (the fastest measured)
        rlog: list[Any] = []
        trigger = [now_s() + LOG_SYNC_INTERVAL_NS / 1e9]

        def drain(now: float) -> None:
            nonlocal size
            for r in rlog:
                if type(r) is list:  # a hit: the entry
                    move(r[5])
                    p0 = r[1]
                    p1 = r[2]
                    p2 = r[3]
                    p3 = r[4]
                else:  # a miss: its positions
                    p0, p1, p2, p3 = r
                x0 = c[p0]
                x1 = c[p1]
                x2 = c[p2]
                x3 = c[p3]
                if x0 & x1 & x2 & x3 != 15:
                    c[p0] = inc[x0]
                    c[p1] = inc[x1]
                    c[p2] = inc[x2]
                    c[p3] = inc[x3]
                    size += 1
                    if size >= sample:
                        size = reset(c, size)
            rlog.clear()
            trigger[0] = now + LOG_SYNC_INTERVAL_NS / 1e9

        def miss_positions(k: Any) -> tuple[int, int, int, int]:
            """The memo's positions, else computed (no logged row times a miss: not inlined)."""
            p = memoget(k)
            if p is None:
                if len(memo) >= MEMO_LIMIT:
                    memo.clear()
                p = memo[k] = positions(k, mask)
            return p

        def get_logged(k: Any, default: Any = None) -> Any:
            now = now_s()
            e = odget(k)
            if len(rlog) >= LOG_FLUSH_POINT or now >= trigger[0]:
                drain(now)
            if e is not None:
                rlog.append(e)
                return e[0]
            rlog.append(miss_positions(k))  # a Miss record
            return default

        def get_ttl_logged(k: Any, default: Any = None) -> Any:
            now = now_s()
            e = odget(k)
            if len(rlog) >= LOG_FLUSH_POINT or now >= trigger[0]:
                drain(now)
            if e is not None:
                if e[6] > now:
                    rlog.append(e)
                    return e[0]
                rlog.append((e[1], e[2], e[3], e[4]))  # expired: a Miss record, the same key hash
                return default
            rlog.append(miss_positions(k))
            return default

        def run_pending_tasks() -> None:
            drain(now_s())

        self.get = get_logged if ttl is None else get_ttl_logged
        self.run_pending_tasks = run_pending_tasks


class WriteFloor:
    """The floor of moka's write path in a thread-safe cache: ``set`` as moka's ``insert`` does it,
    deferred, behind a lock (``floor[POLICY-write]``, the ``set`` rows only).

    The other floors apply a ``set`` at once; an exact cache cannot, and a thread-safe one must lock.
    This floor keeps, per call, what moka's insert and its housekeeping owe and what thread safety
    adds, in the leanest CPython:

    * **the lock** around the write (a ``threading.Lock``, the cheapest): a write reads the map and
      then changes it or the entry, and another thread may run between any two bytecodes, so
      without it two writers could both insert a key, or lose a generation bump;
    * **one clock read**: moka stamps the write (``last_accessed = last_modified = now``) and checks
      its 300 ms housekeeping trigger against it;
    * **moka's ``EntryInfo``** per entry, a list ``[key, value, entry_gen, last_accessed,
      last_modified, policy_gen, admitted, hash(key), sketch positions]``: an update stores the value,
      bumps the generation (u16) and stamps both timestamps; an insert creates it;
    * **the write record** ``(entry, generation)``, queued and applied every 64 records or 300 ms like
      moka's ``apply_writes``: an update of an admitted entry moves it to the MRU end; a new entry is
      admitted when it fits or under ``lru`` (moved to the MRU end: moka's push), else it faces
      TinyLFU admission (the candidate's frequency, its first counter first, against the LRU-end
      victim's; a dirty victim, whose own write is still queued, is moved to the MRU end and
      skipped, at most 6 in a row), and a rejected candidate leaves the map if the record is its
      latest write; every record sets the policy generation;
    * **moka's size eviction** after the records (``evict_lru_entries``): pop the LRU end while over
      capacity, a dirty entry moved to the MRU end instead, at most 384 attempts; the entry count and
      the eviction count kept.

    It leaves out weights (every entry weighs 1, so the count is the size), the listener, expiry
    (no ttl, tti or per-entry deadline: no timer wheel, no write-order deque), read records (``set``
    records none), the u16 wrap rule of the policy generation, and keys that share a ``hash()``
    (one replaces the other; the harness's keys never do).  The map is one ``OrderedDict`` keyed by
    ``hash(key)``, which is also the access order: an entry enters it when inserted, not when its
    record is applied, and each record moves it where moka's deque would put it, so the order at
    every decision is moka's as long as a pending insert never reaches the LRU end (a cache of
    more than 64 entries).  :func:`check_write_floor` asserts that it evicts exactly what the pure
    backend evicts.
    """

    def __init__(self, capacity: int, policy: str, clock: Callable[[], int] = time.monotonic_ns) -> None:
        tiny_lfu = policy == "tiny_lfu"
        table, sample = sketch_dims(capacity)
        mask = table - 1
        c = bytearray(16 * table)
        inc = INC
        od: OrderedDict[int, list[Any]] = OrderedDict()
        self.od = od
        self.counters = c
        odget = od.get
        move = od.move_to_end
        popfront = od.popitem
        lock = threading.Lock()
        acquire = lock.acquire
        release = lock.release
        origin = clock()
        wlog: list[tuple[list[Any], int]] = []
        cap = capacity
        run_after = origin + LOG_SYNC_INTERVAL_NS
        entries = 0  # moka's entry_count (= weighted_size: unit weights)
        evictions = 0
        size = 0  # the sketch's

        def entry_positions(e: list[Any]) -> tuple[int, int, int, int]:
            p: tuple[int, int, int, int] | None = e[8]
            if p is None:
                p = e[8] = positions(e[0], mask)
            return p

        def frequency(p: tuple[int, int, int, int]) -> int:
            return min(c[p[0]], c[p[1]], c[p[2]], c[p[3]])

        def admit(e: list[Any]) -> bool:
            """moka's ``admit`` for one unit-weight candidate; removes the victim when it wins."""
            nonlocal entries, evictions
            h = e[7] & U64  # the candidate's first counter (fmix64, then index 0) before the rest
            h ^= h >> 33
            h = (h * FMIX1) & U64
            h ^= h >> 33
            h = (h * FMIX2) & U64
            h ^= h >> 33
            x = ((h + SEED0) * SEED0) & U64
            first = c[(((x + (x >> 32)) & mask) << 4) + ((h & 3) << 2)]
            freq = 0 if not first else frequency(entry_positions(e))
            for _ in range(MAX_RETRIES + 1):
                vh = next(iter(od))
                victim = od[vh]
                if victim[2] != victim[5]:  # dirty: moka moves it to the MRU end and retries
                    move(vh)
                    continue
                if not freq or freq <= frequency(entry_positions(victim)):
                    return False  # a tie rejects; nothing is below 0
                del od[vh]
                entries -= 1
                evictions += 1
                return True
            return False

        def run_pending(now: int) -> None:
            nonlocal run_after, entries, evictions
            run_after = now + LOG_SYNC_INTERVAL_NS
            records = wlog[:]
            del wlog[:]
            for e, gen in records:
                if e[6]:  # an update of an admitted entry: to the MRU end
                    move(e[7])
                elif entries < cap or not tiny_lfu or admit(e):
                    e[6] = True
                    entries += 1
                    move(e[7])
                elif e[2] == gen and odget(e[7]) is e:  # rejected, and this is its latest write
                    del od[e[7]]
                    evictions += 1
                if e[5] < gen:
                    e[5] = gen
            for _ in range(EVICTION_BATCH_SIZE):
                if entries <= cap:
                    break
                h, e = popfront(False)
                if e[2] != e[5]:  # dirty: back to the MRU end, skipped
                    od[h] = e
                    continue
                entries -= 1
                evictions += 1

        def set_(k: Any, v: Any) -> None:
            h = hash(k)
            acquire()
            try:
                now = clock() - origin
                e = odget(h)
                if e is not None and ((x := e[0]) is k or x == k):
                    e[1] = v
                    gen = e[2] = (e[2] + 1) & 0xFFFF
                    e[3] = e[4] = now
                else:
                    gen = 1
                    e = [k, v, 1, now, now, 0, False, h, None]
                    od[h] = e
                if len(wlog) >= LOG_FLUSH_POINT or now >= run_after:
                    run_pending(now)
                wlog.append((e, gen))
            finally:
                release()

        def get(k: Any, default: Any = None) -> Any:
            """The stored value (for the checks; no floor times a ``get`` of this one)."""
            e = odget(hash(k))
            return default if e is None else e[1]

        def bump(k: Any) -> None:
            """One sketch increment for ``k``, as moka applies a recorded read (for the checks)."""
            nonlocal size
            p0, p1, p2, p3 = positions(k, mask)
            x0, x1, x2, x3 = c[p0], c[p1], c[p2], c[p3]
            if x0 & x1 & x2 & x3 != 15:
                c[p0], c[p1], c[p2], c[p3] = inc[x0], inc[x1], inc[x2], inc[x3]
                size += 1
                if size >= sample:
                    size = reset(c, size)

        def run_pending_tasks() -> None:
            acquire()
            try:
                run_pending(clock() - origin)
            finally:
                release()

        self.set = set_
        self.get = get
        self.bump = bump
        self.run_pending_tasks = run_pending_tasks
        def entry_count() -> int:
            return entries

        def eviction_count() -> int:
            """Entries that left by size: LRU-end evictions and rejected candidates."""
            return evictions

        self.entry_count = entry_count
        self.eviction_count = eviction_count


class FloorAdapter(Adapter):
    """The floor caches in the harness's adapter shape, so :data:`timing.OPS` builds them exactly as
    it builds every subject (capacity, keys, fill, loop shape: ``get(k)``, ``set(k, v)``,
    ``get_with(k, init)``, ``remove(k)``, a decorated ``f(k)``)."""

    library = "floor"

    def __init__(self, policy: str) -> None:
        self.policy = policy
        self.family = policy
        self.label = f"pure floor [{policy}]"

    def new_cache(self, capacity: int | None, ttl: float | None = None) -> Any | None:
        """An :class:`LfuFloor` (logged or not), :class:`LruFloor`, :class:`LruLoggedFloor` or
        :class:`WriteFloor` (only the tiny_lfu floors have a ttl: no other target needs it)."""
        if capacity is None:
            return None
        if self.policy.endswith(WRITE_SUFFIX):
            return None if ttl is not None else WriteFloor(capacity, self.policy[: -len(WRITE_SUFFIX)])
        if self.policy in ("tiny_lfu", LFU_LOGGED):
            return LfuFloor(capacity, ttl, logged=self.policy == LFU_LOGGED)
        if ttl is not None:
            return None
        return LruLoggedFloor(capacity) if self.policy == "lru-logged" else LruFloor(capacity)

    def fill(self, cache: Any, keys: Iterable[Hashable], ttl: float | None = None) -> None:
        """``set(k, k)`` for every key, through the floor's own ``set``."""
        set_ = cache.set
        for k in keys:
            set_(k, k)

    def settle(self, cache: Any) -> None:
        """Apply the queued records of the write floor and the logged tiny_lfu floor (the lru logged
        floor's are applied by its next call; the other floors apply every change at once)."""
        if isinstance(cache, WriteFloor) or (isinstance(cache, LfuFloor) and cache.logged):
            cache.run_pending_tasks()

    def get(self, cache: Any) -> Call | None:
        """``get(k)`` (the write floor has none to time)."""
        return None if isinstance(cache, WriteFloor) else Call("call1", cache.get)

    def set(self, cache: Any) -> Call:
        """``set(k, VALUE)``."""
        return Call("call2", cache.set, VALUE)

    def get_with(self, cache: Any) -> Call | None:
        """``get_with(k, INIT)`` (tiny_lfu only: the only get_with target is pure tiny_lfu's)."""
        return Call("call2", cache.get_with, INIT) if self.policy == "tiny_lfu" else None

    def remove(self, cache: Any) -> Call | None:
        """``remove(k)`` (the write floors and the logged tiny_lfu floor have none to time)."""
        if isinstance(cache, WriteFloor) or self.policy == LFU_LOGGED:
            return None
        return Call("call1", cache.remove)

    def decorate(
        self, func: Callable[[Any], Any], maxsize: int, ttl: float | None
    ) -> Callable[[Any], Any] | None:
        """``func`` behind the tiny_lfu floor's decorator (the decorator targets are tiny_lfu's)."""
        if self.policy != "tiny_lfu":
            return None
        wrapper: Callable[[Any], Any] = LfuFloor(maxsize, ttl).decorate(func)
        return wrapper


# ------------------------------------------------------------------------------------------ the check


def check_sketch() -> None:
    """Assert that the floors count exactly like the pure backend's ``FrequencySketch``.

    On a small cache (so that the stream crosses several resets): the positions ``set`` computes
    for new keys, then the counters and ``size`` after streams of ``get`` hits and misses,
    ``get_with`` hits, decorator hits, and the same with ttl; the logged floor's ``get`` stream against
    the unlogged one's (counters, ``size``, access order); then every admission decision of
    ``set`` into the full cache against the backend's frequencies.  Raises ``AssertionError``.
    """
    from moka_py_pure._hashing import key_hash
    from moka_py_pure._sketch import FrequencySketch

    cap = 200
    rng = random.Random(timing.SEED)
    universe: list[Any] = [*timing.int_keys(600, 11), *timing.str_keys(600, 12)]
    stored = rng.sample(universe, cap)
    stream = rng.choices(universe, k=12_000)
    hits = rng.choices(stored, k=6_000)
    table, sample = sketch_dims(cap)

    for ttl in (None, 60.0):
        floor = LfuFloor(cap, ttl)
        ref = FrequencySketch()
        ref.ensure_capacity(cap)
        assert (ref.table_len(), ref.sample_size) == (table, sample), "sketch dimensions differ"
        for k in stored:
            floor.set(k, k)
        for k in stored:
            assert floor.od[k][1:5] == list(ref.positions(key_hash(k))), f"positions of {k!r} differ"
        def get_with_init(k: Any, get_with: Callable[[Any, Any], Any] = floor.get_with) -> Any:
            return get_with(k, INIT)

        wrapper = floor.decorate(lambda x: x)
        loops: list[tuple[Callable[[Any], Any], list[Any]]] = [
            (floor.get, stream),
            (get_with_init, hits),
            (wrapper, hits),
        ]
        for fn, keys in loops:
            for k in keys:
                fn(k)
                ref.increment(key_hash(k))
            assert len(floor.od) == cap, "a hit or a miss changed the map"
            assert floor.counters == ref.counters, "sketch counters differ from the backend's"
            assert floor.size() == ref.size, "sketch size differs from the backend's"
        # The logged floor: the same get stream, queued and drained, counts the same and leaves the
        # same access order as the unlogged floor, whose counts were just checked.
        logged, plain = LfuFloor(cap, ttl, logged=True), LfuFloor(cap, ttl)
        for f in (logged, plain):
            for k in stored:
                f.set(k, k)
            for k in stream:
                f.get(k)
        assert logged.get(stored[0]) == stored[0] and plain.get(stored[0]) == stored[0]
        logged.run_pending_tasks()
        assert logged.counters == plain.counters, "the logged floor's counters differ"
        assert logged.size() == plain.size(), "the logged floor's sketch size differs"
        assert list(logged.od) == list(plain.od), "the logged floor's access order differs"
        # Admission on a fresh cache: some candidates were missed (counted), the victims never read.
        floor = LfuFloor(cap, ttl)
        ref = FrequencySketch()
        ref.ensure_capacity(cap)
        for k in stored:
            floor.set(k, k)
        others = [k for k in universe if k not in floor.od]
        for k in rng.choices(others[: len(others) // 2], k=3 * cap):
            floor.get(k)
            ref.increment(key_hash(k))
        outcomes = [0, 0]
        for k in others:
            victim = next(iter(floor.od))
            expect = ref.frequency(key_hash(k)) > ref.frequency(key_hash(victim))
            floor.set(k, k)
            assert (k in floor.od) == expect, f"admission of {k!r} differs"
            assert (victim in floor.od) != expect, "the victim's fate differs"
            outcomes[expect] += 1
        assert all(outcomes), f"the admission check saw only one outcome {outcomes}: it tests nothing"


def check_write_floor() -> None:
    """Assert that :class:`WriteFloor` keeps and evicts exactly what the pure backend does.

    Per policy, on a small cache with a frozen clock (so only the 64-record trigger runs a cycle, in
    both): fill it, count misses of half the other keys into both sketches (tiny_lfu), then a
    stream of ``set`` calls, half replacing a stored key and half writing another; after every
    500 calls both settle and must hold the same keys and the same entry count.  Raises
    ``AssertionError``, also when the stream never evicted, or (tiny_lfu) never admitted or never
    rejected a new key: then it would test nothing.
    """
    from moka_py_pure import Moka

    cap = 200
    for policy in ("lru", "tiny_lfu"):
        rng = random.Random(timing.SEED)
        universe: list[Any] = [*timing.int_keys(600, 13), *timing.str_keys(600, 14)]
        stored = rng.sample(universe, cap)
        kept_at_start = set(stored)
        others = [k for k in universe if k not in kept_at_start]
        floor = WriteFloor(cap, policy, clock=lambda: 0)
        ref: Moka[Any, Any] = Moka._with_clock(lambda: 0, cap, policy=policy)
        for k in stored:
            floor.set(k, k)
            ref.set(k, k)
        if policy == "tiny_lfu":
            for k in rng.choices(others[: len(others) // 2], k=3 * cap):
                floor.bump(k)
                ref.get(k)
        floor.run_pending_tasks()
        ref.run_pending_tasks()
        outcomes = [0, 0]  # new keys rejected or evicted by the next settle, kept
        for chunk in range(8):
            fresh = []
            for i in range(500):
                k = rng.choice(stored) if i % 2 else rng.choice(others)
                if floor.get(k, _MISSING) is _MISSING:
                    fresh.append(k)
                floor.set(k, (chunk, i))
                ref.set(k, (chunk, i))
            floor.run_pending_tasks()
            ref.run_pending_tasks()
            kept = [k for k in universe if k in ref]
            assert kept == [k for k in universe if floor.get(k, _MISSING) is not _MISSING], (
                f"{policy}: the write floor keeps other keys than the pure backend"
            )
            assert floor.entry_count() == ref.count() == len(kept), f"{policy}: entry counts differ"
            for k in fresh:
                outcomes[k in ref] += 1
        assert floor.eviction_count() > 0, f"{policy}: the stream never evicted: it tests nothing"
        if policy == "tiny_lfu":
            assert all(outcomes), f"admission saw only one outcome {outcomes}: it tests nothing"


# ------------------------------------------------------------------------------------------ components


def _components(cfg: SpeedConfig) -> dict[str, Prepared]:
    """One timed loop per piece of the floors, each in a Python function of the key like the floors
    (read them against *Python call*), over the ``get_hit_int`` keys and cache shape."""
    keys = timing.keyset("int", cfg)
    order = timing.keyset("order:int", cfg)
    miss = timing.keyset("order:int_miss", cfg)
    table, sample = sketch_dims(cfg.n_keys)
    mask = table - 1
    od: OrderedDict[Any, Any] = OrderedDict((k, k) for k in keys)
    d = dict(od)
    pos = {k: positions(k, mask) for k in keys}
    by_pos = [pos[k] for k in order]
    by_word = [(p[0] >> 4, p[1] >> 4, p[2] >> 4, p[3] >> 4, (p[0] & 15) << 2) for p in by_pos]
    fresh = timing.FreshInts()
    evicting: OrderedDict[Any, Any] = OrderedDict(od)

    def py_call(k: Any) -> Any:
        return k

    def dict_get(k: Any, g: Any = d.get) -> Any:
        return g(k)

    def od_get(k: Any, g: Any = od.get) -> Any:
        return g(k)

    def od_move(k: Any, m: Any = od.move_to_end) -> Any:
        return m(k)

    def od_get_move(k: Any, g: Any = od.get, m: Any = od.move_to_end) -> Any:
        v = g(k)
        m(k)
        return v

    def od_insert_pop(k: Any, od: Any = evicting, p: Any = evicting.popitem) -> None:
        od[k] = k
        p(False)

    def od_peek_front(k: Any, od: Any = od) -> Any:
        return next(iter(od))

    def make_increment(c: Any) -> Callable[[Any], None]:
        size = 0

        def increment(p: Any, c: Any = c, inc: Any = INC) -> None:
            nonlocal size
            p0, p1, p2, p3 = p
            x0 = c[p0]
            x1 = c[p1]
            x2 = c[p2]
            x3 = c[p3]
            if x0 & x1 & x2 & x3 != 15:
                c[p0] = inc[x0]
                c[p1] = inc[x1]
                c[p2] = inc[x2]
                c[p3] = inc[x3]
                size += 1
                if size >= sample:
                    size >>= 1  # the halving itself is not this loop's subject
                    c[:] = [x >> 1 for x in c]

        return increment

    words = [0] * table
    wsize = 0

    def increment_packed(p: Any, t: Any = words) -> None:
        """moka's own layout: sixteen 4-bit counters per u64 word, on Python ints."""
        nonlocal wsize
        i0, i1, i2, i3, s = p
        changed = False
        w = t[i0]
        if (w >> s) & 15 != 15:
            t[i0] = w + (1 << s)
            changed = True
        s += 4
        w = t[i1]
        if (w >> s) & 15 != 15:
            t[i1] = w + (1 << s)
            changed = True
        s += 4
        w = t[i2]
        if (w >> s) & 15 != 15:
            t[i2] = w + (1 << s)
            changed = True
        s += 4
        w = t[i3]
        if (w >> s) & 15 != 15:
            t[i3] = w + (1 << s)
            changed = True
        if changed:
            wsize += 1
            if wsize >= sample:
                wsize >>= 1
                t[:] = [(x >> 1) & 0x7777_7777_7777_7777 for x in t]

    def fmix64(k: Any) -> int:
        h = hash(k) & U64
        h ^= h >> 33
        h = (h * FMIX1) & U64
        h ^= h >> 33
        h = (h * FMIX2) & U64
        return h ^ (h >> 33)

    def monotonic(k: Any, m: Any = time.monotonic) -> Any:
        return m()

    def monotonic_ns(k: Any, m: Any = time.monotonic_ns) -> Any:
        return m()

    hits = count().__next__

    def counter(k: Any, n: Any = hits) -> Any:
        return n()

    def make_locked(lock: Any) -> Callable[[Any], Any]:
        def locked(k: Any, acquire: Any = lock.acquire, release: Any = lock.release) -> Any:
            acquire()
            try:
                return k
            finally:
                release()

        return locked

    def wrapper_key(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            return (args, tuple(kwargs.items()))
        if len(args) == 1 and type(args[0]) in OWN_KEY_TYPES:
            return args[0]
        return args

    pieces: list[tuple[str, Prepared]] = [
        ("Python call: `def f(k): return k`", Prepared(Call("call1", py_call), order)),
        ("`dict.get(k)`, hit", Prepared(Call("call1", dict_get), order)),
        ("`OrderedDict.get(k)`, hit", Prepared(Call("call1", od_get), order)),
        ("`OrderedDict.get(k)`, miss", Prepared(Call("call1", od_get), miss)),
        ("`OrderedDict.move_to_end(k)`", Prepared(Call("call1", od_move), order)),
        ("`OrderedDict.get(k)` + `move_to_end(k)`", Prepared(Call("call1", od_get_move), order)),
        ("`OrderedDict` insert + `popitem(last=False)`", Prepared(Call("call1", od_insert_pop), [],
                                                                 before=fresh.take)),
        ("`next(iter(od))` (peek the LRU end)", Prepared(Call("call1", od_peek_front), order)),
        ("sketch increment, `bytearray` (floors, backend)",
         Prepared(Call("call1", make_increment(bytearray(16 * table))), by_pos)),
        ("sketch increment, `list` of ints",
         Prepared(Call("call1", make_increment([0] * (16 * table))), by_pos)),
        ("sketch increment, packed u64 words (moka's layout)",
         Prepared(Call("call1", increment_packed), by_word)),
        ("`fmix64(hash(k))` alone", Prepared(Call("call1", fmix64), order)),
        ("sketch positions of a new key (fmix64 + 4 indexes)",
         Prepared(Call("call2", positions, mask), order)),
        ("clock: `time.monotonic()`", Prepared(Call("call1", monotonic), order)),
        ("clock: `time.monotonic_ns()`", Prepared(Call("call1", monotonic_ns), order)),
        ("hit counter: `count().__next__()`", Prepared(Call("call1", counter), order)),
        ("lock: `threading.Lock` acquire + release (write floor)",
         Prepared(Call("call1", make_locked(threading.Lock())), order)),
        ("lock: `threading.RLock` acquire + release (backend)",
         Prepared(Call("call1", make_locked(threading.RLock())), order)),
        ("decorator shape: `*args, **kwargs` call + key", Prepared(Call("call1", wrapper_key), order)),
    ]
    for _, p in pieces:
        p.calibrate(cfg)
    return dict(pieces)


# ------------------------------------------------------------------------------------------ the run


def _plan() -> dict[str, list[tuple[str, str]]]:
    """Per harness operation, what is timed in its rounds: the floors, the targets' denominators
    (the peers) and numerators (the pure backend), each as ``(subject, op)``."""
    plan: dict[str, list[tuple[str, str]]] = {}
    for t in TARGETS:
        sid, op = t.num
        if t.group != "pure" or op not in timing.OPS:
            continue
        items = plan.setdefault(op, [])
        policy = sid[sid.index("[") + 1 : -1]
        floors = [(f"floor[{policy}]", op)]
        if policy == "lru" or op in LFU_LOGGED_OPS:
            floors.append((f"floor[{policy}-logged]", op))
        if op in WRITE_OPS:
            floors.append((f"floor[{policy}{WRITE_SUFFIX}]", op))
        for item in (*floors, t.den, t.num):
            if item not in items:
                items.append(item)
    return plan


def _rounds(loops: dict[str, Callable[[], float]], repeats: int) -> dict[str, dict[str, Any]]:
    """``repeats`` alternating rounds of one loop each (a loop returns ns/op); medians and samples."""
    live = list(loops.items())
    samples: dict[str, list[float]] = {name: [] for name in loops}
    for r in range(repeats):
        for name, loop in timing.alternating(live, r):
            samples[name].append(loop())
    return {name: {"median_ns": statistics.median(s), "samples": s} for name, s in samples.items()}


def _prepare(
    subject: str, op: str, cfg: SpeedConfig, workers: dict[str, timing.RemoteExecutor]
) -> tuple[Callable[[], float], Callable[[], None]]:
    """One timed loop (returns ns/op) and its release, for a floor or a harness subject.

    A pure-backend decorator runs in a worker with ``MOKA_PY_BACKEND=pure`` (as in the speed
    group: ``moka_py`` builds decorated caches with the backend it selected).
    """
    if subject.startswith("floor["):
        p = timing.OPS[op].build(FloorAdapter(subject[6:-1]), cfg)
        assert p is not None, f"no floor for {subject} {op}"
        p.calibrate(cfg)
        return p.run_once, p.dispose
    status, q = timing.prepare(subject, op, cfg)
    if q is not None:
        return q.run_once, q.dispose
    backend = SUBJECTS[subject].backend
    if status != "needs-worker" or backend is None:
        raise ImportError(f"{subject} has no {op} ({status})")
    worker = workers.get(backend)
    if worker is None:
        worker = workers[backend] = timing.RemoteExecutor(
            f"MOKA_PY_BACKEND={backend}", sys.executable, {"MOKA_PY_BACKEND": backend}
        )
    status, handle, _ = worker.prepare(subject, op, cfg)
    if handle is None:
        raise ImportError(f"{subject} has no {op} in its worker ({status})")
    return (lambda: worker.measure(handle)), (lambda: worker.release(handle))


def run_pure_floor(cfg: SpeedConfig, log: Log) -> dict[str, Any]:
    """Check the floors' sketch and the write floor's evictions against the backend's, then time
    every floor beside its peer.

    Returns ``{"ops": {op: {"SUBJECT:OP": {median_ns, samples}}}, "components": {name: ...},
    "notes": [...]}``: floors are the subjects ``floor[POLICY]``; a subject that could not run
    (not installed) is absent, with a note.
    """
    notes: list[str] = []
    try:
        check_sketch()
        check_write_floor()
    except ImportError as exc:
        return {"ops": {}, "components": {}, "notes": [f"skipped: the pure backend is missing ({exc})"]}
    log("  sketch check: the floors count exactly like moka_py_pure's FrequencySketch")
    log("  write-floor check: WriteFloor keeps and evicts exactly what moka_py_pure does")
    ops: dict[str, dict[str, dict[str, Any]]] = {}
    workers: dict[str, timing.RemoteExecutor] = {}
    try:
        for op, items in _plan().items():
            loops: dict[str, Callable[[], float]] = {}
            release: list[Callable[[], None]] = []
            for subject, item_op in items:
                name = item_id(subject, item_op)
                try:
                    loop, done = _prepare(subject, item_op, cfg, workers)
                except ImportError as exc:
                    notes.append(f"{name} not timed: {exc}")
                    continue
                loops[name] = loop
                release.append(done)
            ops[op] = _rounds(loops, cfg.repeats)
            for done in release:
                done()
            log(f"  {op:<15} ns/op: " + ", ".join(f"{n} {r['median_ns']:.0f}" for n, r in ops[op].items()))
    finally:
        for w in workers.values():
            w.close()
    components = _rounds({name: p.run_once for name, p in _components(cfg).items()}, cfg.repeats)
    for name, r in components.items():
        log(f"  {r['median_ns']:6.0f}  {name}")
    for note in notes:
        log(f"  {note}")
    return {"ops": ops, "components": components, "notes": notes}


def target_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every pure speed target in ns beside its floor and the pure backend.

    ``target_ns`` is the limit times the peer's median from the same rounds as the floor;
    ``below_floor`` says whether the target is below the floor (then it cannot be met in CPython
    without changing moka's algorithm).  ``write_floor_ns`` (``set`` rows) is :class:`WriteFloor`
    from the same rounds, and ``below_write_floor`` says whether the target is below what moka's
    deferred write costs behind a lock.  ``ours_ns`` comes from those rounds too, else from the
    speed group.  Figures this run did not measure are ``None``.
    """
    ops: dict[str, Any] = results.get("pure_floor", {}).get("ops", {})
    speed: dict[str, Any] = results.get("speed", {})
    rows: list[dict[str, Any]] = []
    for t in TARGETS:
        sid, op = t.num
        if t.group != "pure" or op not in timing.OPS:
            continue
        got = ops.get(op, {})
        policy = sid[sid.index("[") + 1 : -1]
        floor_ns = got.get(item_id(f"floor[{policy}]", op), {}).get("median_ns")
        logged_ns = got.get(item_id(f"floor[{policy}-logged]", op), {}).get("median_ns")
        write_ns = got.get(item_id(f"floor[{policy}{WRITE_SUFFIX}]", op), {}).get("median_ns")
        peer_ns = got.get(item_id(*t.den), {}).get("median_ns")
        ours_ns = got.get(item_id(sid, op), {}).get("median_ns")
        if ours_ns is None:
            ours_ns = speed.get(op, {}).get("results", {}).get(sid, {}).get("median_ns")
        target_ns = t.limit * peer_ns if peer_ns is not None else None
        rows.append(
            {
                "target": t.text,
                "op": op,
                "policy": policy,
                "peer_ns": peer_ns,
                "target_ns": target_ns,
                "floor_ns": floor_ns,
                "floor_ratio": floor_ns / peer_ns if floor_ns is not None and peer_ns else None,
                "ours_ns": ours_ns,
                "below_floor": None if target_ns is None or floor_ns is None else target_ns < floor_ns,
                "logged_floor_ns": logged_ns,
                "below_logged_floor": (
                    None if target_ns is None or logged_ns is None else target_ns < logged_ns
                ),
                "write_floor_ns": write_ns,
                "below_write_floor": None if target_ns is None or write_ns is None else target_ns < write_ns,
            }
        )
    return rows
