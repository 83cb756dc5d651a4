"""Machinery for the reliability tests: injected faults, a thread-safe value ledger, a random workload.

The model tier's ``Ledger`` follows one call at a time; here many threads call the cache at once,
so this ledger only keeps what holds whatever the interleaving:

* every value is a unique int, handed out for one key, and is *stored* once the call that stored it
  returned (or raised a fault that the contract says comes after the change), *failed* if that call
  raised before changing anything;
* every report names a known value under its own key, with a known cause, at most once, and never a
  failed value;
* at a settled point (``run_pending_tasks()`` with no call running) each key holds at most one
  unreported value, which is the one ``get`` returns, unless it may have expired; ``count()`` is
  the number of unreported values; and after ``clear()`` every stored value has been reported
  exactly once: no value was lost.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from moka_py_conformance._support import run_with_watchdog

CAUSES = frozenset({"explicit", "size", "expired", "replaced"})


class Fault(Exception):
    """An exception raised on purpose by a callable the cache was given."""


class HashFault(Fault):
    pass


class EqFault(Fault):
    pass


class WeigherFault(Fault):
    pass


class ListenerFault(Fault):
    pass


class InitFault(Fault):
    pass


FAULT_OF = {
    "hash": HashFault,
    "eq": EqFault,
    "weigher": WeigherFault,
    "listener": ListenerFault,
    "initializer": InitFault,
}

# Which faults each operation may raise (API.md section 3): a key's __hash__/__eq__ from any call that
# takes a key; the weigher from inserts; the initializer from get_with; the listener from any call
# that delivers events (reads, writes and housekeeping; never `in`, count() or weighted_size()).
KEYED = {HashFault, EqFault}
ALLOWED: dict[str, frozenset[type[Fault]]] = {
    "set": frozenset({*KEYED, WeigherFault, ListenerFault}),
    "get": frozenset({*KEYED, ListenerFault}),
    "contains": frozenset(KEYED),
    "get_with": frozenset({*KEYED, WeigherFault, InitFault, ListenerFault}),
    "remove": frozenset({*KEYED, ListenerFault}),
    "clear": frozenset({ListenerFault}),
    "run_pending_tasks": frozenset({ListenerFault}),
    "count": frozenset(),
    "weighted_size": frozenset(),
    # API.md section 7: peek and the observations deliver nothing; remove_if hashes the stored keys
    # it removes (housekeeping first, then removals: listener faults)
    "peek": frozenset(KEYED),
    "getitem": frozenset({*KEYED, ListenerFault}),
    "get_many": frozenset({*KEYED, ListenerFault}),
    "set_many": frozenset({*KEYED, WeigherFault, ListenerFault}),
    "pop": frozenset({*KEYED, ListenerFault}),
    "remove_many": frozenset({*KEYED, ListenerFault}),
    "remove_if": frozenset({*KEYED, ListenerFault}),
    "len": frozenset(),
    "stats": frozenset(),
}
# A set or get_with that raised one of these changed nothing; one that raised a listener's fault
# had already stored its value (the listener runs after the change).
BEFORE_CHANGE = (HashFault, EqFault, WeigherFault, InitFault)


class Faults:
    """How often each injected callable raises (0 to 1 per call), and how often each did."""

    def __init__(self, **probabilities: float) -> None:
        unknown = set(probabilities) - set(FAULT_OF)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self.probability = {kind: probabilities.get(kind, 0.0) for kind in FAULT_OF}
        self.raised: Counter[str] = Counter()
        self._lock = threading.Lock()

    def maybe(self, kind: str) -> None:
        """Raise the fault of ``kind`` with its probability."""
        p = self.probability[kind]
        if p and random.random() < p:
            with self._lock:
                self.raised[kind] += 1
            raise FAULT_OF[kind](f"injected {kind} fault")

    def off(self) -> None:
        """No more faults: for the checks after the run."""
        self.probability = dict.fromkeys(FAULT_OF, 0.0)


class Key:
    """A key whose ``__hash__`` and ``__eq__`` may raise; a fresh instance per call, so ``__eq__`` runs."""

    __slots__ = ("faults", "n")

    def __init__(self, n: int, faults: Faults) -> None:
        self.n = n
        self.faults = faults

    def __hash__(self) -> int:
        self.faults.maybe("hash")
        return hash(self.n)

    def __eq__(self, other: object) -> bool:
        self.faults.maybe("eq")
        return isinstance(other, Key) and other.n == self.n

    def __repr__(self) -> str:
        return f"Key({self.n})"


class ConcurrentLedger:
    """Every value handed to one cache by many threads, and every report about it (see module doc)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._issued = 0
        self.key_of: dict[int, int] = {}
        self.may_expire: set[int] = set()
        self.stored: set[int] = set()
        self.failed: set[int] = set()
        self.reported: dict[int, str] = {}
        self.problems: list[str] = []

    def new_value(self, n: int, *, may_expire: bool) -> int:
        with self._lock:
            self._issued += 1
            value = self._issued
            self.key_of[value] = n
            if may_expire:
                self.may_expire.add(value)
        return value

    def settle(self, value: int, *, stored: bool) -> None:
        with self._lock:
            (self.stored if stored else self.failed).add(value)

    def record(self, key: object, value: object, cause: object) -> None:
        """The listener's bookkeeping: check one event and remember it."""
        where = f"event ({key!r}, {value!r}, {cause!r})"
        with self._lock:
            if cause not in CAUSES:
                self.problems.append(f"{where}: unknown cause")
            elif not isinstance(value, int) or value not in self.key_of:
                self.problems.append(f"{where}: not a value that was given to the cache")
            elif not isinstance(key, Key) or key.n != self.key_of[value]:
                self.problems.append(f"{where}: the value was stored under Key({self.key_of[value]})")
            elif value in self.reported:
                self.problems.append(f"{where}: already reported as {self.reported[value]!r}")
            else:
                self.reported[value] = str(cause)

    def check_settled(self, cache: Any, keys: range, faults: Faults, capacity: int, weighed: bool) -> None:
        """At a settled point: one unreported value per key, readable unless it may have expired."""
        cache.run_pending_tasks()
        assert not self.problems, self.problems[:5]
        size = cache.weighted_size() if weighed else cache.count()
        assert size <= capacity, f"{'weighted size' if weighed else 'count'} {size} > capacity {capacity}"
        unreported: dict[int, list[int]] = {}
        for value in self.stored - set(self.reported):
            unreported.setdefault(self.key_of[value], []).append(value)
        for n in keys:
            held = unreported.get(n, [])
            assert len(held) <= 1, f"Key({n}) has several values neither readable nor reported: {held}"
            got = cache.get(Key(n, faults))
            if got is not None:
                assert held == [got], f"get(Key({n})) returned {got!r}; the ledger holds {held}"
            elif held:
                assert held[0] in self.may_expire, (
                    f"value {held[0]} of Key({n}) is neither readable nor reported, and had no deadline"
                )
        # the reads above may have run housekeeping that removed expired entries: count afresh
        count = cache.count()
        in_map = len(self.stored - set(self.reported))
        assert count == in_map, f"count() is {count}, but {in_map} stored values are unreported"

    def check_cleared(self, cache: Any) -> None:
        """After ``clear()``: every stored value reported exactly once, no failed value ever."""
        assert not self.problems, self.problems[:5]
        assert cache.count() == 0
        lost = sorted(self.stored - set(self.reported))
        assert not lost, f"{len(lost)} stored values were never reported, e.g. {lost[:5]}"
        phantom = sorted(self.failed & set(self.reported))
        assert not phantom, f"values whose insert failed were reported: {phantom[:5]}"
        assert not (self.stored & self.failed)


class Workload:
    """Random mixes of every operation on one cache, from many threads, checked against a ledger.

    The listener records each event, and now and then calls back into the cache (a read, a
    membership test, or a ``set`` of another key), one level deep.
    """

    OPERATIONS = (
        ("set", 30),
        ("get", 30),
        ("get_with", 15),
        ("remove", 8),
        ("contains", 5),
        ("run_pending_tasks", 3),
        ("count", 2),
        ("weighted_size", 1),
        ("clear", 0.3),
        ("peek", 5),
        ("getitem", 5),
        ("get_many", 4),
        ("set_many", 4),
        ("pop", 3),
        ("remove_many", 3),
        ("remove_if", 0.5),
        ("len", 1),
        ("stats", 1),
    )

    def __init__(
        self,
        Moka: Any,  # noqa: N803 - the class under test
        *,
        capacity: int = 50,
        keys: int = 200,
        policy: str = "tiny_lfu",
        ttl: float | None = None,
        weighed: bool = False,
        entry_deadlines: bool = True,
        faults: Faults | None = None,
    ) -> None:
        self.ledger = ConcurrentLedger()
        self.faults = faults or Faults()
        self.keys = range(keys)
        self.capacity = capacity
        self.weighed = weighed
        self.cache_wide_deadline = ttl is not None
        self.entry_deadlines = entry_deadlines
        self.calls_back = True
        self.unexpected: list[str] = []
        self.ops: Counter[str] = Counter()
        self._local = threading.local()
        self._lock = threading.Lock()
        kinds, weights = zip(*self.OPERATIONS)
        self._kinds: tuple[str, ...] = kinds
        self._weights: tuple[float, ...] = weights
        self.cache = Moka(
            capacity,
            ttl=ttl,
            policy=policy,
            eviction_listener=self._listener,
            weigher=self._weigher if weighed else None,
        )

    # the callables given to the cache

    def _weigher(self, key: Any, value: Any) -> int:
        self.faults.maybe("weigher")
        return 1 + int(value) % 3

    def _listener(self, key: Any, value: Any, cause: str) -> None:
        self.ledger.record(key, value, cause)
        if self.calls_back and not getattr(self._local, "inside", False) and random.random() < 0.2:
            self._local.inside = True
            try:
                n = random.choice(self.keys)
                what = random.random()
                if what < 0.4:
                    self.cache.get(Key(n, self.faults))
                elif what < 0.6:
                    _ = Key(n, self.faults) in self.cache
                else:
                    self._set(random.Random(), n)
            except Fault as exc:  # a fault of a call made here is this listener's fault
                raise ListenerFault(f"listener's call back raised {exc!r}") from exc
            finally:
                self._local.inside = False
        self.faults.maybe("listener")

    # operations

    def _deadlines(self, rng: random.Random) -> dict[str, float]:
        if not self.entry_deadlines or rng.random() >= 0.2:
            return {}
        return {rng.choice(("ttl", "tti")): rng.uniform(0.05, 0.5)}

    def _set(self, rng: random.Random, n: int, how: str = "set") -> None:
        deadlines = self._deadlines(rng)
        value = self.ledger.new_value(n, may_expire=bool(deadlines) or self.cache_wide_deadline)
        try:
            if how == "set_many":  # one pair, so that a fault says whether it was stored
                self.cache.set_many([(Key(n, self.faults), value)], **deadlines)
            else:
                self.cache.set(Key(n, self.faults), value, **deadlines)
        except BEFORE_CHANGE:
            self.ledger.settle(value, stored=False)
            raise
        except BaseException:
            self.ledger.settle(value, stored=True)
            raise
        self.ledger.settle(value, stored=True)

    def _get_with(self, rng: random.Random, n: int) -> None:
        deadlines = self._deadlines(rng)
        made: list[int] = []

        def initializer() -> int:
            self.faults.maybe("initializer")
            value = self.ledger.new_value(n, may_expire=bool(deadlines) or self.cache_wide_deadline)
            made.append(value)
            return value

        try:
            got = self.cache.get_with(Key(n, self.faults), initializer, **deadlines)
        except BEFORE_CHANGE:
            for value in made:
                self.ledger.settle(value, stored=False)
            raise
        except BaseException:
            for value in made:
                self.ledger.settle(value, stored=True)
            raise
        for value in made:
            self.ledger.settle(value, stored=True)
        if self.ledger.key_of.get(got) != n:
            raise AssertionError(f"get_with(Key({n})) returned {got!r}, a value of another key")

    def step(self, rng: random.Random) -> None:
        """One random operation; a fault it raises must be one its call may raise."""
        kind = rng.choices(self._kinds, self._weights)[0]
        n = rng.choice(self.keys)
        cache = self.cache
        try:
            if kind == "set":
                self._set(rng, n)
            elif kind == "get_with":
                self._get_with(rng, n)
            elif kind == "get":
                got = cache.get(Key(n, self.faults))
                if got is not None and self.ledger.key_of.get(got) != n:
                    raise AssertionError(f"get(Key({n})) returned {got!r}, a value of another key")
            elif kind == "remove":
                got = cache.remove(Key(n, self.faults))
                if got is not None and self.ledger.key_of.get(got) != n:
                    raise AssertionError(f"remove(Key({n})) returned {got!r}, a value of another key")
            elif kind == "contains":
                _ = Key(n, self.faults) in cache
            elif kind == "set_many":
                self._set(rng, n, "set_many")
            elif kind in ("peek", "getitem", "pop"):
                key = Key(n, self.faults)
                if kind == "peek":
                    got = cache.peek(key)
                elif kind == "pop":
                    got = cache.pop(key, None)
                else:
                    try:
                        got = cache[key]
                    except KeyError:
                        got = None
                if got is not None and self.ledger.key_of.get(got) != n:
                    raise AssertionError(f"{kind}(Key({n})) returned {got!r}, a value of another key")
            elif kind in ("get_many", "remove_many"):
                ns = [n, *rng.sample(self.keys, 2)]
                found = getattr(cache, kind)([Key(i, self.faults) for i in ns])
                for key, got in found.items():
                    if self.ledger.key_of.get(got) != key.n:
                        raise AssertionError(f"{kind} returned {key!r}: {got!r}, a value of another key")
            elif kind == "remove_if":
                chosen = set(rng.sample(self.keys, 5))
                cache.remove_if(lambda key, value: key.n in chosen)
            elif kind == "len":
                if not isinstance(len(cache), int):
                    raise AssertionError("len() is not an int")
            elif kind == "stats":
                stats = cache.stats()
                if stats.hits < 0 or stats.misses < 0:
                    raise AssertionError(f"stats() counts below 0: {stats!r}")
            else:
                getattr(cache, kind)()
        except Fault as exc:
            with self._lock:
                self.ops[f"{kind} raised {type(exc).__name__}"] += 1
                if type(exc) not in ALLOWED[kind]:
                    self.unexpected.append(f"{kind}() raised {exc!r}, which it must not")
            return
        with self._lock:
            self.ops[kind] += 1

    def run(self, threads: int, seconds: float) -> None:
        """``threads`` threads doing random steps for ``seconds``, under a watchdog."""
        barrier = threading.Barrier(threads)
        errors: list[BaseException] = []

        def worker(seed: int) -> None:
            rng = random.Random(seed)
            barrier.wait()
            end = time.monotonic() + seconds
            try:
                while time.monotonic() < end:
                    step_many(self, rng, 20)
            except BaseException as exc:  # reported below
                errors.append(exc)

        workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]

        def start_and_join() -> None:
            for thread in workers:
                thread.start()
            for thread in workers:
                thread.join()

        run_with_watchdog(start_and_join, seconds + 60, f"{threads} threads of random operations")
        if errors:
            raise errors[0]

    def check(self) -> None:
        """Stop faults and call-backs, then check the ledger at a settled point and after ``clear()``."""
        self.faults.off()
        self.calls_back = False
        assert not self.unexpected, self.unexpected[:5]
        self.ledger.check_settled(self.cache, self.keys, self.faults, self.capacity, self.weighed)
        self.cache.clear()
        self.ledger.check_cleared(self.cache)


def step_many(workload: Workload, rng: random.Random, steps: int) -> None:
    for _ in range(steps):
        workload.step(rng)


def wait_until(condition: Callable[[], bool], cache: Any, timeout: float = 20.0) -> bool:
    """Call ``run_pending_tasks()`` every 50 ms until ``condition()`` holds; False after ``timeout``.

    For real-time expiry: moka's timer wheel ticks about every 1.07 s, so an expired entry may
    stay in the map a while; the timeout is a wide margin for a busy machine, not a bound.
    """
    end = time.monotonic() + timeout
    while True:
        cache.run_pending_tasks()
        if condition():
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(0.05)
