"""The model tier: hypothesis state machines against a ledger of every value (DESIGN.md, "Tests").

Each machine drives one cache through random calls of every operation on a small key space and
checks, after every call, what moka guarantees whatever it decides to evict (see ``_ledger.py``):
nothing lost, nothing reported twice, causes right, counts bounded, reads never stale.

Configurations: capacity ``None`` or 0..20, both policies, unit weights or a weigher (including
zero weights and weights above the capacity), cache-wide and per-entry ttl/tti that are LONG (real
time cannot be mocked for the Rust backend, so nothing may expire during a run), and a listener
that is absent, only records, or re-enters the cache (``get``, ``set`` of another key, and on
``"replaced"`` sometimes ``set`` of the same key). Calls that may re-enter run under a watchdog, so
a deadlock fails the test instead of hanging it.

Refresh-ahead takes part (``refresh``): a due ``aget_with`` hit starts a reload task, held while
the machine makes a racing call (a second hit, a ``set``, ``remove`` or ``clear`` of the key, or
nothing), then released and awaited (no task but the machine's own left on the loop). The ledger
then knows whether its write had to happen (``Ledger.will_reload``): the old value reported
``"replaced"`` during the reload, the new one stored, or, failed or refused, nothing at all.

Expiry in real time has its own small, slow test at the end, with wide margins.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable, Hashable
from collections.abc import Set as AbstractSet
from typing import Any

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from moka_py_conformance._ledger import Ledger, Operation
from moka_py_conformance._lockstep import DUE, RELOAD_PATIENCE, Overran, other_tasks_done
from moka_py_conformance._support import Deadlock

MISSING = object()
MAX_KEYS = 24
CAPACITIES = [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 0, None]
LONG_TIMES = [60, 90.5, 3600, 86_400.25]  # seconds: nothing expires during a run
LISTENER_WRITES_PER_STEP = 3  # bounds how far a re-entrant listener's writes can cascade
WATCHDOG_SECONDS = 20.0


class InitializerError(Exception):
    pass


long_times = st.sampled_from(LONG_TIMES)
maybe_long = st.none() | long_times
weights = st.integers(0, 4) | st.integers(0, 25)
key_indexes = st.integers(0, MAX_KEYS - 1)


class CacheMachine(RuleBasedStateMachine):
    """One cache of the backend under test, checked against a ``Ledger``."""

    def __init__(self, Moka: Any, policy: str, weighted: bool, exact: bool) -> None:
        super().__init__()
        self.Moka = Moka
        self.exact = exact
        self.policy = policy
        self.weighted = weighted
        self.cache: Any = None
        self.ledger = Ledger(None)
        self.keys: list[Hashable] = []
        self.mode = "record"
        self.rng = random.Random(0)
        self.listener_budget = 0
        self.listener_writes = 0
        self.history: list[str] = []
        self.deadlocked = False

    # set-up

    @initialize(
        capacity=st.sampled_from(CAPACITIES),
        n_keys=st.sampled_from(range(1, MAX_KEYS + 1)),
        str_keys=st.booleans(),
        ttl=maybe_long,
        tti=maybe_long,
        mode=st.sampled_from(["reentrant", "record", "none", "reentrant"]),
        seed=st.integers(0, 2**32 - 1),
    )
    def create(
        self,
        capacity: int | None,
        n_keys: int,
        str_keys: bool,
        ttl: float | None,
        tti: float | None,
        mode: str,
        seed: int,
    ) -> None:
        self.keys = [f"k{i}" for i in range(n_keys)] if str_keys else list(range(n_keys))
        self.mode = mode
        # The listener's choices come from their own generator: they are made inside cache calls,
        # in an order hypothesis does not control (housekeeping may run at any 300 ms boundary).
        self.rng = random.Random(seed)
        self.ledger = Ledger(capacity, reports=mode != "none", exact=self.exact, weighted=self.weighted)
        self.cache = self.Moka(
            capacity,
            ttl=ttl,
            tti=tti,
            policy=self.policy,
            weigher=self.weigh if self.weighted else None,
            eviction_listener=None if mode == "none" else self.listener,
        )
        self.note(
            f"Moka({capacity}, ttl={ttl}, tti={tti}, policy={self.policy!r}, "
            f"weigher={self.weighted}, listener={mode!r}, keys={self.keys})"
        )

    def note(self, line: str) -> None:
        self.history.append(line)

    def key(self, index: int) -> Hashable:
        return self.keys[index % len(self.keys)]

    def weigh(self, key: Any, value: Any) -> int:
        if self.ledger.key_of.get(value, MISSING) != key:
            self.ledger.violate(f"weigher called with ({key!r}, {value!r}), which were never set together")
            return 0
        return self.ledger.weight_of[value]

    # calling the cache

    def call(self, what: str, target: Callable[[], Any], watched: bool = False) -> Any:
        """Run one call; under a watchdog when the listener re-enters the cache, or if ``watched``."""
        if self.mode != "reentrant" and not watched:
            return target()
        result: list[Any] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                result.append(target())
            except BaseException as exc:  # handed to the caller below
                errors.append(exc)

        thread = threading.Thread(target=run, name=f"model:{what}", daemon=True)
        thread.start()
        thread.join(WATCHDOG_SECONDS)
        if thread.is_alive():
            self.deadlocked = True
            steps = "\n  ".join(self.history[-30:])
            raise Deadlock(f"{what} did not return within {WATCHDOG_SECONDS} s; last steps:\n  {steps}")
        if errors:
            raise errors[0]
        return result[0]

    def contains(self, key: Hashable) -> bool:
        with self.ledger.operation("contains", key):
            found = self.cache.__contains__(key)
        if not isinstance(found, bool):
            self.ledger.violate(f"`{key!r} in cache` returned {found!r}, not a bool")
        return bool(found)

    def observe(self, key: Hashable) -> None:
        """Check ``key in cache`` against the ledger (without a listener: teach it to the ledger)."""
        found = self.contains(key)
        if not self.ledger.reports:
            if not found:
                self.ledger.forget(key)
            return
        expected = self.ledger.visible(key) is not None
        if found != expected:
            self.ledger.violate(
                f"`{key!r} in cache` is {found}, but the ledger says the key "
                f"{'holds ' + str(self.ledger.latest[key]) if expected else 'is absent'}"
            )

    def do_set(
        self,
        key: Hashable,
        weight: int,
        ttl: float | None,
        tti: float | None,
        certain: bool,
        how: str = "set",
    ) -> None:
        value = self.ledger.new_value(key, weight)
        with self.ledger.operation("set", key) as op:
            self.ledger.will_store(op, key, value, certain=certain)
            if how == "setitem" and ttl is None and tti is None:
                self.cache[key] = value
                returned = None
            elif how == "update" and ttl is None and tti is None:
                returned = self.cache.update([(key, value)])
            elif how == "set_many":
                returned = self.cache.set_many({key: value}, ttl=ttl, tti=tti)
            else:
                returned = self.cache.set(key, value, ttl=ttl, tti=tti)
        if returned is not None:
            self.ledger.violate(f"set({key!r}, {value}) returned {returned!r}, not None")

    def readable(self, key: Hashable) -> int | None:
        """The value a read of ``key`` must find now, or None for a miss."""
        if self.ledger.reports:
            return self.ledger.visible(key)
        return self.ledger.latest.get(key)  # without a listener, observe() has just checked `in`

    def do_get(self, key: Hashable, default: Any, certain: bool, how: str = "get") -> None:
        """``get(key)``; ``certain``: the ledger knows the key's state (not called from a listener).

        ``how``: the same read through ``cache[key]``, ``get_many`` or ``peek`` (which is not a
        recorded read: the ledger's "peek" operation may not deliver events).
        """
        expected = self.readable(key)
        issued = self.ledger.issued
        with self.ledger.operation("peek" if how == "peek" else "get", key):
            if how == "getitem":
                try:
                    got = self.cache[key]
                except KeyError:
                    got = default
            elif how == "get_many":
                got = self.cache.get_many([key]).get(key, default)
            elif how == "peek":
                got = self.cache.peek(key) if default is None else self.cache.peek(key, default)
            else:
                got = self.cache.get(key) if default is None else self.cache.get(key, default)
        if certain:
            want = default if expected is None else expected
            if got is not want:
                self.ledger.violate(f"get({key!r}) returned {got!r}, expected {want!r}")
        elif got is not default and got is not expected and not self.stored_during_call(key, got, issued):
            # From inside a listener, an event for the key may still be queued (the key may be gone
            # already), and a housekeeping run that the get triggers may deliver events whose
            # listener stores the key again; but the value must be the key's, and not a stale one.
            self.ledger.violate(f"get({key!r}) from a listener returned {got!r}, not the latest value")

    # the listener

    def listener(self, key: Any, value: Any, cause: Any) -> None:
        self.ledger.report(key, value, cause)
        if self.mode != "reentrant" or self.listener_budget <= 0:
            return
        roll = self.rng.random()
        if roll < 0.3:
            self.do_get(self.key(self.rng.randrange(MAX_KEYS)), None, certain=False)
        elif roll < 0.6:
            other = self.key(self.rng.randrange(MAX_KEYS))
            if other != key:
                self.listener_write(other)
        if cause == "replaced" and self.rng.random() < 0.4:
            self.listener_write(key)

    def listener_write(self, key: Hashable) -> None:
        if self.listener_budget <= 0:
            return
        self.listener_budget -= 1
        self.listener_writes += 1
        self.note(f"  listener: set({key!r})")
        self.do_set(key, self.rng.choice([0, 1, 1, 2, 3]), None, None, certain=False)

    # rules

    def step(self, line: str) -> None:
        self.note(line)
        self.listener_budget = LISTENER_WRITES_PER_STEP

    @rule(
        i=key_indexes,
        weight=weights,
        ttl=maybe_long,
        tti=maybe_long,
        how=st.sampled_from(["set", "set", "setitem", "set_many", "update"]),
    )
    def set(self, i: int, weight: int, ttl: float | None, tti: float | None, how: str = "set") -> None:
        key = self.key(i)
        self.step(f"{how}({key!r}, weight={weight}, ttl={ttl}, tti={tti})")
        self.observe(key)
        self.call(how, lambda: self.do_set(key, weight, ttl, tti, certain=True, how=how))

    @rule(
        i=key_indexes,
        default=st.sampled_from([None, MISSING]),
        how=st.sampled_from(["get", "get", "getitem", "get_many", "peek"]),
    )
    def get(self, i: int, default: Any, how: str = "get") -> None:
        key = self.key(i)
        self.step(f"{how}({key!r})")
        self.observe(key)
        self.call(how, lambda: self.do_get(key, default, certain=True, how=how))

    @rule(
        i=key_indexes,
        kind=st.sampled_from(["value", "value", "raises", "sets-same-key"]),
        weight=weights,
        ttl=maybe_long,
        tti=maybe_long,
    )
    def get_with(self, i: int, kind: str, weight: int, ttl: float | None, tti: float | None) -> None:
        key = self.key(i)
        self.step(f"get_with({key!r}, {kind}, weight={weight}, ttl={ttl}, tti={tti})")
        self.observe(key)
        present = self.readable(key)
        calls: list[int] = []
        made: list[int] = []
        error = InitializerError(f"initializer for {key!r}")
        outer: list[Operation] = []
        issued = self.ledger.issued

        def initializer() -> int:
            calls.append(1)
            if kind == "raises":
                raise error
            if kind == "sets-same-key":
                self.do_set(key, 1, None, None, certain=True)
            value = self.ledger.new_value(key, weight)
            self.ledger.will_store(outer[0], key, value, certain=True)
            made.append(value)
            return value

        def run() -> None:
            with self.ledger.operation("get_with", key) as op:
                outer.append(op)
                try:
                    got = self.cache.get_with(key, initializer, ttl=ttl, tti=tti)
                except InitializerError as exc:
                    if exc is not error:
                        raise
                    got = exc
                    if present is not None:
                        self.ledger.violate(f"get_with({key!r}) ran a raising initializer for a present key")
            if present is not None:
                if calls:
                    self.ledger.violate(f"get_with({key!r}) called the initializer for a present key")
                if got is not present:
                    self.ledger.violate(f"get_with({key!r}) returned {got!r}, expected {present}")
                return
            if not calls and self.stored_during_call(key, got, issued):
                # the owner's re-check found it (docs/internals/moka-algorithms.md, "get_with", step 3)
                return
            if len(calls) != 1:
                self.ledger.violate(f"get_with({key!r}) called the initializer {len(calls)} times, not once")
            if kind == "raises":
                if got is not error:
                    self.ledger.violate(f"get_with({key!r}) returned {got!r} from a raising initializer")
            elif got is not made[0]:
                self.ledger.violate(f"get_with({key!r}) returned {got!r}, not the initializer's value")

        self.call("get_with", run)
        if kind == "raises" and present is None:
            self.observe(key)  # nothing was stored
            if self.ledger.reports is False and self.contains(key):
                self.ledger.violate(f"get_with({key!r}) stored something although its initializer raised")

    def stored_during_call(self, key: Hashable, got: Any, issued: int) -> bool:
        """Was ``got`` stored under ``key`` by the listener while the current call ran?

        A re-entrant listener may run inside a call (delivering events from a housekeeping run that
        the call triggered) and store the very key that the call is reading or computing.
        """
        return (
            self.mode == "reentrant"
            and isinstance(got, int)
            and got > issued
            and self.ledger.key_of.get(got) == key
        )

    @rule(
        i=key_indexes,
        default=st.sampled_from([None, MISSING]),
        how=st.sampled_from(["remove", "remove", "pop", "del", "remove_many"]),
    )
    def remove(self, i: int, default: Any, how: str = "remove") -> None:
        key = self.key(i)
        self.step(f"{how}({key!r})")
        self.observe(key)

        def run() -> None:
            with self.ledger.operation("remove", key) as op:
                expected = self.ledger.will_remove(op, key)
                if not self.ledger.reports:
                    expected = self.ledger.latest.get(key)
                if how == "pop":
                    got = self.cache.pop(key, default)
                elif how == "del":
                    try:
                        del self.cache[key]
                        got = expected if expected is not None else "no KeyError"
                    except KeyError:
                        got = default
                elif how == "remove_many":
                    got = self.cache.remove_many([key]).get(key, default)
                else:
                    got = self.cache.remove(key) if default is None else self.cache.remove(key, default)
            wants = self.ledger.removal_results(expected, default)
            if how == "del" and expected is not None and not self.ledger.reports:
                wants = (expected, default)  # no listener: `del` of a value that may be gone
            if not any(got is want for want in wants):
                self.ledger.violate(f"{how}({key!r}) returned {got!r}, expected one of {wants!r}")

        self.call("remove", run)
        if self.ledger.reports:
            self.observe(key)
        elif self.contains(key):
            self.ledger.violate(f"{key!r} is still in the cache after remove()")
        else:
            self.ledger.forget(key)

    @rule(chosen=st.sets(key_indexes, max_size=6))
    def remove_if(self, chosen: AbstractSet[int]) -> None:
        """``remove_if`` accepting the chosen keys: each value of theirs in the map is reported
        by the time it returns (removed, or evicted by the housekeeping it runs first)."""
        keys = {self.key(i) for i in chosen}
        self.step(f"remove_if(key in {sorted(map(repr, keys))})")
        seen: list[Hashable] = []
        writes = self.listener_writes

        def predicate(key: Any, value: Any) -> bool:
            seen.append(key)
            if self.ledger.key_of.get(value, MISSING) != key:
                self.ledger.violate(f"remove_if's predicate got ({key!r}, {value!r}), not a stored pair")
            return key in keys

        def run() -> int:
            with self.ledger.operation("remove_if") as op:
                op.accepting = keys
                if self.ledger.reports:
                    op.clearing = {v for k, v in self.ledger.stored().items() if k in keys}
                removed = self.cache.remove_if(predicate)
            self.ledger.count_records(removed)
            return int(removed)

        removed = self.call("remove_if", run)
        if len(set(seen)) != len(seen):
            self.ledger.violate(f"remove_if called the predicate twice for a key: {seen}")
        if removed > len(keys):
            self.ledger.violate(f"remove_if returned {removed}, but accepts {len(keys)} keys")
        for key in self.keys:
            if key in keys and self.contains(key) and self.listener_writes == writes:
                self.ledger.violate(f"{key!r} is still in the cache after remove_if accepted it")
            self.observe(key)

    @rule(
        i=key_indexes,
        weight=weights,
        fails=st.booleans(),
        during=st.sampled_from([None, "hit", "set", "remove", "clear"]),
    )
    def refresh(self, i: int, weight: int, fails: bool, during: str | None) -> None:
        """A due ``aget_with`` hit, its reload held while ``during`` runs, then awaited."""
        if not self.ledger.reports:
            return  # without a listener the ledger cannot tell whether the reload must write
        key = self.key(i)
        self.step(f"aget_with({key!r}, refresh_after={DUE}, weight={weight}, fails={fails}, during={during})")
        self.observe(key)
        if self.ledger.visible(key) is None:
            self.call("set", lambda: self.do_set(key, 1, None, None, certain=True))
            self.observe(key)
        found = self.ledger.visible(key)
        if found is None:
            return  # capacity 0, or evicted at once
        reloads: list[int] = []
        new = self.ledger.new_value(key, weight)
        gates: list[asyncio.Event] = []  # made on the loop that runs the rule (Python 3.9)

        def initializer(n: int) -> Callable[[], Any]:
            async def reload() -> int:
                reloads.append(n)
                await gates[0].wait()
                if fails:
                    raise InitializerError(f"reload of {key!r}")
                return new

            return reload

        async def hit(n: int) -> None:
            with self.ledger.operation("get", key):
                got = await self.cache.aget_with(key, initializer(n), refresh_after=DUE)
            if got is not found:
                self.ledger.violate(f"aget_with({key!r}) of a due entry returned {got!r}, not {found}")

        async def run() -> None:
            await hit(1)
            if during == "hit":
                await hit(2)  # a reload is in flight: this hit starts none
            elif during == "set":
                self.do_set(key, 1, None, None, certain=True)
            elif during == "remove":
                with self.ledger.operation("remove", key) as op:
                    old = self.ledger.will_remove(op, key)
                    got = self.cache.remove(key, MISSING)
                if not any(got is want for want in self.ledger.removal_results(old, MISSING)):
                    self.ledger.violate(f"remove({key!r}) during a reload returned {got!r}, not {old}")
            elif during == "clear":
                with self.ledger.operation("clear"):
                    self.cache.clear()
            with self.ledger.operation("reload", key) as op:
                writes = self.ledger.will_reload(op, key, found, None if fails else new)
                self.note(f"  reload of {found}: {'writes' if writes else 'writes nothing'}")
                gates[0].set()
                try:
                    await other_tasks_done(time.monotonic() + RELOAD_PATIENCE)
                except Overran:
                    self.ledger.violate(f"the reload of {key!r} did not end within {RELOAD_PATIENCE} s")
            if reloads != [1]:
                self.ledger.violate(f"a due hit of {key!r} started reloads {reloads}, expected [1]")

        async def main() -> None:
            gates.append(asyncio.Event())
            await run()

        # Watched: the reload writes on the loop's thread, and a cache that deadlocks there would
        # block the loop, so the reload's own bounded wait could never end.
        self.call("refresh", lambda: asyncio.run(main()), watched=True)
        self.observe(key)

    @rule()
    def look(self) -> None:
        """``len``, iteration and ``items()``: exactly the keys ``in`` finds, changing nothing."""
        self.step("len(cache), list(cache), cache.items()")
        with self.ledger.operation("look"):
            size = len(self.cache)
            keys = list(self.cache)
            items = self.cache.items()
        present = {key for key in self.keys if self.contains(key)}
        if size != len(present) or set(keys) != present or {k for k, _ in items} != present:
            self.ledger.violate(
                f"len()={size}, keys {sorted(map(repr, keys))}, items {sorted(map(repr, items))}, "
                f"but `in` finds {sorted(map(repr, present))}"
            )
        if self.ledger.reports:
            for key, value in items:
                if (visible := self.ledger.visible(key)) != value:
                    self.ledger.violate(f"items() has ({key!r}, {value!r}); the ledger: {visible}")

    @rule(i=key_indexes)
    def contains_key(self, i: int) -> None:
        key = self.key(i)
        self.step(f"{key!r} in cache")
        self.observe(key)

    @rule()
    def clear(self) -> None:
        self.step("clear()")
        writes = self.listener_writes

        def run() -> None:
            with self.ledger.operation("clear"):
                self.cache.clear()

        self.call("clear", run)
        if self.listener_writes == writes:
            self.check_counts_after_clear()
        if not self.ledger.reports:
            self.ledger.latest.clear()

    def check_counts_after_clear(self) -> None:
        count, size = self.sizes()
        if (count, size) != (0, 0):
            self.ledger.violate(f"after clear(): count()={count}, weighted_size()={size}, expected 0")
        for key in self.keys:
            if self.contains(key):
                self.ledger.violate(f"{key!r} is still in the cache after clear()")

    @rule()
    def counters(self) -> None:
        self.step("count(), weighted_size()")
        # Between sync points the counters lag, and a cycle run implicitly inside a write can
        # publish a weighted size above the capacity (the entry being written is skipped by the trim
        # as dirty: docs/internals/moka-algorithms.md, "Eviction"). Only their types are checked here.
        self.sizes(bounded=False)

    def sizes(self, bounded: bool = True) -> tuple[int, int]:
        with self.ledger.operation("count"):
            count = self.cache.count()
            size = self.cache.weighted_size()
        if type(count) is not int or type(size) is not int or count < 0 or size < 0:
            self.ledger.violate(f"count()={count!r}, weighted_size()={size!r}: not ints >= 0")
            return 0, 0
        capacity = self.ledger.capacity if bounded else None
        if not self.weighted and size != count:
            self.ledger.violate(f"with unit weights weighted_size()={size} must equal count()={count}")
        if capacity is not None and size > capacity:
            self.ledger.violate(f"weighted_size()={size} (count()={count}) exceeds the capacity {capacity}")
        return count, size

    @rule()
    def run_pending_tasks(self) -> None:
        self.step("run_pending_tasks()")
        self.settle()
        self.check_settled()

    @rule(seed=st.integers(0, 2**32 - 1), length=st.integers(20, 90))
    def burst(self, seed: int, length: int) -> None:
        """Many calls with no sync point: moka's 64-record flush points decide inside the batch."""
        rng = random.Random(seed)
        self.note(f"burst(seed={seed}, length={length}):")
        for _ in range(length):
            i = rng.randrange(MAX_KEYS)
            kind = rng.choice(["set", "set", "get", "get", "get_with", "remove", "contains_key", "peek"])
            if kind == "set":
                self.set(i, rng.choice([0, 1, 1, 1, 2, 5]), None, None, rng.choice(["set", "setitem"]))
            elif kind == "get":
                self.get(i, None, rng.choice(["get", "getitem", "get_many"]))
            elif kind == "peek":
                self.get(i, None, "peek")
            elif kind == "get_with":
                self.get_with(i, rng.choice(["value", "raises"]), 1, None, None)
            elif kind == "remove":
                self.remove(i, MISSING, rng.choice(["remove", "pop", "remove_many"]))
            else:
                self.contains_key(i)
            self.ledger.check()

    # settled state

    def settle(self) -> None:
        """run_pending_tasks() until no listener write is left pending."""
        for _ in range(5):
            writes = self.listener_writes

            def run() -> None:
                with self.ledger.operation("run_pending_tasks"):
                    self.cache.run_pending_tasks()

            self.call("run_pending_tasks", run)
            if self.listener_writes == writes:
                return
            self.listener_budget = 0  # let the next round settle what the listener wrote
        raise AssertionError("the listener kept writing while settling")

    def check_settled(self) -> None:
        count, size = self.sizes()
        present = {key for key in self.keys if self.contains(key)}
        if count != len(present):
            self.ledger.violate(
                f"count()={count} after run_pending_tasks(), but {len(present)} keys are in the cache"
            )
        if not self.ledger.reports:
            for key in list(self.ledger.latest):
                if key not in present:
                    self.ledger.forget(key)
            stored = {key: self.ledger.latest[key] for key in present if key in self.ledger.latest}
        else:
            stored = self.ledger.stored()
            if set(stored) != present:
                self.ledger.violate(
                    f"keys in the cache {sorted(map(repr, present))} != keys whose latest value was "
                    f"never reported {sorted(map(repr, stored))}: a value was lost or a key resurrected"
                )
            lost = self.ledger.unaccounted()
            if lost:
                value = lost[0]
                self.ledger.violate(
                    f"value {value} (key {self.ledger.key_of[value]!r}) was replaced or removed but "
                    f"never reported"
                )
        if self.weighted:
            expected_size = sum(self.ledger.weight_of[value] for value in stored.values())
            if size != expected_size:
                self.ledger.violate(
                    f"weighted_size()={size} after run_pending_tasks(), but the entries in the cache "
                    f"weigh {expected_size}"
                )

    @invariant()
    def nothing_wrong_so_far(self) -> None:
        self.ledger.check()

    def teardown(self) -> None:
        if self.cache is None or self.deadlocked:
            return
        self.note("teardown: run_pending_tasks(), then get every key")
        self.listener_budget = 0
        self.settle()
        self.check_settled()
        for key in self.keys:
            self.do_get(key, MISSING, certain=True)
        self.ledger.check()
        # shown by --hypothesis-show-statistics: what the runs exercised
        capacity = self.ledger.capacity
        event(
            f"capacity {'None' if capacity is None else min(capacity, 3) if capacity < 3 else '>= 3'}, "
            f"listener {self.mode}"
        )
        for cause in sorted(set(self.ledger.reported.values())):
            event(f"reported {cause!r}")
        if self.listener_writes:
            event("listener wrote into the cache")


@pytest.mark.parametrize("weighted", [False, True], ids=["unit-weights", "weigher"])
@pytest.mark.parametrize("policy", ["tiny_lfu", "lru"])
def test_model(Moka: Any, backend: Any, policy: str, weighted: bool) -> None:
    exact = bool(getattr(backend, "exact", False))

    class Machine(CacheMachine):
        def __init__(self) -> None:
            super().__init__(Moka, policy, weighted, exact)

    run_state_machine_as_test(Machine, settings=settings())


# Real-time expiry, with wide margins ------------------------------------------------------------
#
# Timeline of one cache (seconds after its creation):
#   0 .. < 0.15   first phase: writes with SHORT or long deadlines, reads, removes; must be quick
#                 (else the example is rejected), so no deadline passes and no housekeeping runs
#   sleep         until SHORT + 0.35 after the first phase: every SHORT deadline has passed, and
#                 nothing ran housekeeping, so the expired entries are all still in moka's map
#   second phase  `in` for every key (no housekeeping), then a write over an expired entry (the first
#                 call that can run housekeeping, so it still finds the entry), reads, more calls
#   sleep         until WHEEL_SETTLED: moka's timer wheel (2**30 ns ticks from creation) has ticked
#                 since the per-entry deadlines, which all fell in its first tick
#   end           run_pending_tasks(): every expired value is reported, counts match
# Only lower bounds on time are relied on (sleeps), except that each phase is quick, which is
# measured: a stalled phase rejects the example, whatever it saw.

SHORT = 0.25
PHASE_LIMIT = 0.15
AFTER_EXPIRY = SHORT + 0.35
WHEEL_SETTLED = 1.75  # > 2**30 ns, and > 1.1 s after the last SHORT deadline (at most 0.4 s)
EXPIRY_KEYS = range(6)

FIRST_KINDS = ["set-short-ttl", "set-short-tti", "set-long", "get_with-short", "get", "remove"]
LATER_KINDS = ["set-long", "get", "remove", "contains", "get_with-short"]


def expiry_setup(cache_wide: str | None) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "cache_wide": st.just(cache_wide),
            "capacity": st.none() | st.integers(1, 8),
            "policy": st.sampled_from(["tiny_lfu", "lru"]),
            "first": st.lists(
                st.tuples(st.sampled_from(EXPIRY_KEYS), st.sampled_from(FIRST_KINDS)), max_size=25
            ),
            "overwrite": st.tuples(st.integers(0, 5), st.sampled_from(["set-long", "remove"])),
            "later": st.lists(
                st.tuples(st.sampled_from(EXPIRY_KEYS), st.sampled_from(LATER_KINDS)), max_size=8
            ),
        }
    )


class ExpiryScenario:
    """One cache whose SHORT deadlines pass between two quick phases of calls."""

    def __init__(self, Moka: Any, setup: dict[str, Any], exact: bool) -> None:
        self.setup = setup
        self.cache_wide: str | None = setup["cache_wide"]
        self.short: dict[int, str] = {}  # value -> "entry" or "cache": what makes it expire
        self.phase_of: dict[int, int] = {}
        self.phase = 1
        self.expired_through = 0  # values written in phases up to this one have expired
        self.ledger = Ledger(setup["capacity"], expired=self.expired, exact=exact)
        self.started = time.monotonic()
        self.second_phase_at = self.started
        self.cache = Moka(
            setup["capacity"],
            policy=setup["policy"],
            ttl=SHORT if self.cache_wide == "ttl" else None,
            tti=SHORT if self.cache_wide == "tti" else None,
            eviction_listener=self.ledger.report,
        )

    def expired(self, value: int) -> str | None:
        return self.short.get(value) if self.phase_of[value] <= self.expired_through else None

    def store(self, op: Operation, key: int, short: bool) -> int:
        value = self.ledger.new_value(key)
        self.phase_of[value] = self.phase
        self.ledger.will_store(op, key, value, certain=True)
        if self.cache_wide is not None:
            self.short[value] = "cache"
        elif short:
            self.short[value] = "entry"
        return value

    def apply(self, key: int, kind: str) -> None:
        ledger, cache = self.ledger, self.cache
        if kind.startswith("set"):
            per_entry = {"set-short-ttl": {"ttl": SHORT}, "set-short-tti": {"tti": SHORT, "ttl": 60}}
            with ledger.operation("set", key) as op:
                value = self.store(op, key, short=kind != "set-long")
                cache.set(key, value, **per_entry.get(kind, {"ttl": 60}))
        elif kind == "get_with-short":
            expected = ledger.visible(key)
            with ledger.operation("get_with", key) as op:
                got = cache.get_with(key, lambda: self.store(op, key, short=True), ttl=SHORT)
            made = ledger.latest[key] if expected is None else expected
            assert got is made, f"get_with({key}) returned {got!r}, expected {made}"
        elif kind == "get":
            expected = ledger.visible(key)
            with ledger.operation("get", key):
                got = cache.get(key, MISSING)
            want: object = MISSING if expected is None else expected
            assert got is want, f"get({key}) returned {got!r}, expected {want!r}"
        elif kind == "remove":
            with ledger.operation("remove", key) as op:
                expected = ledger.will_remove(op, key)  # an expired entry still in the map is returned
                got = cache.remove(key, MISSING)
            gone: object = MISSING if expected is None else expected
            assert got is gone, f"remove({key}) returned {got!r}, expected {gone!r}"
        else:
            with ledger.operation("contains", key):
                found = key in cache
            assert found == (ledger.visible(key) is not None), f"`{key} in cache` is {found}"
        ledger.check()

    def timed_phase(self, since: float, calls: Callable[[], object]) -> float:
        """Run ``calls``; return when they ended. Too slow: reject the example, whatever happened."""
        try:
            calls()
        finally:
            ended = time.monotonic()
            assume(ended - since < PHASE_LIMIT)
        return ended

    def first_phase(self) -> None:
        ended = self.timed_phase(self.started, self._first_phase_calls)
        self.second_phase_at = ended + AFTER_EXPIRY

    def _first_phase_calls(self) -> None:
        for call in self.setup["first"]:
            self.apply(*call)

    def second_phase(self) -> None:
        self.expired_through, self.phase = 1, 2
        self.timed_phase(time.monotonic(), self._second_phase_calls)

    def _second_phase_calls(self) -> None:
        for key in EXPIRY_KEYS:
            self.apply(key, "contains")  # records nothing, runs no housekeeping
        # Overwrite or remove an entry whose deadline passed but that is still in the map: with a
        # cache-wide deadline moka reports it "expired", with a per-entry one "replaced" (set) or
        # "explicit" (remove); remove returns it either way (docs/internals/moka-algorithms.md,
        # "Listener causes and timing").
        stored = sorted(self.ledger.stored().items())
        expired = [key for key, value in stored if self.expired(value)] or [key for key, _ in stored]
        index, kind = self.setup["overwrite"]
        self.apply(expired[index % len(expired)] if expired else 0, kind)
        for key in EXPIRY_KEYS:
            self.apply(key, "get")
        for call in self.setup["later"]:
            self.apply(*call)

    def final_check(self) -> None:
        self.expired_through = 2  # cache-wide deadlines set in the second phase have passed too
        ledger = self.ledger
        with ledger.operation("run_pending_tasks"):
            self.cache.run_pending_tasks()
        ledger.check()
        for value, how in self.short.items():
            assert value in ledger.reported, (
                f"value {value} (key {ledger.key_of[value]!r}, {how} deadline) expired long ago "
                "but was never reported"
            )
        assert not ledger.unaccounted(), f"values neither readable nor reported: {ledger.unaccounted()}"
        visible = {key for key in EXPIRY_KEYS if ledger.visible(key) is not None}
        assert {key for key in EXPIRY_KEYS if key in self.cache} == visible
        assert self.cache.count() == len(visible)
        for key in EXPIRY_KEYS:
            self.apply(key, "get")


@pytest.mark.slow
@settings(deadline=None, max_examples=max(4, settings().max_examples // 60))
@given(setups=st.tuples(*(expiry_setup(cache_wide) for cache_wide in (None, "ttl", "tti"))))
def test_model_expiry_in_real_time(Moka: Any, backend: Any, setups: tuple[dict[str, Any], ...]) -> None:
    """Short deadlines pass while the test sleeps; what is checked holds whenever moka's wheel ticks.

    Three caches per example (per-entry deadlines only, cache-wide ttl, cache-wide tti) share the
    sleeps. Expired values must be invisible at once and reported exactly once: "expired" by
    housekeeping, "size" if chosen as a victim first, "replaced" (per-entry deadline) or "expired"
    (cache-wide) when a set overwrites them while still in the map, and "explicit" (per-entry) or
    "expired" (cache-wide) when removed while still in the map; all of them are gone once the timer
    wheel has ticked. The ledger knows which values are still in the map (every removal is
    reported), so none of this depends on when housekeeping ran.
    """
    scenarios: list[ExpiryScenario] = []
    for setup in setups:
        scenarios.append(ExpiryScenario(Moka, setup, bool(getattr(backend, "exact", False))))
        scenarios[-1].first_phase()
    for scenario in scenarios:
        time.sleep(max(0.0, scenario.second_phase_at - time.monotonic()))
        scenario.second_phase()
    for scenario in scenarios:
        time.sleep(max(0.0, scenario.started + WHEEL_SETTLED - time.monotonic()))
        scenario.final_check()
