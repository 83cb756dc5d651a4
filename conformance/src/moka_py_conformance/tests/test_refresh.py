"""Refresh-ahead: ``refresh_after=`` on ``get_with``, ``aget_with`` and ``cached`` (API.md section 8).

An entry is made due for a reload by its age: on a backend with an injectable clock (the pure
backend's ``Moka._with_clock``) the clock jumps, elsewhere the test sleeps well past
``refresh_after`` (0.05 s against 0.3 s; no upper bound on time is ever asserted).  Reloads are
held on events, so "the caller got the old value while the reload ran" is shown by order, not by
timing; waiting for a background reload is a bounded poll that only a hang can exhaust.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from moka_py import cached

from moka_py_conformance._support import EventLog, run_threads

pytestmark = pytest.mark.contract  # the contract tier (conformance README)

REFRESH = 0.05  # seconds
STALE = 0.3  # seconds slept to make an entry due on a real clock
PATIENCE = 30.0  # seconds: only a lost reload gets near it


class Aged:
    """A cache whose entries can be made older than ``REFRESH``."""

    def __init__(self, Moka: Any, capacity: int | None = 100, **options: Any) -> None:
        self.now = 0
        with_clock = getattr(Moka, "_with_clock", None)
        self.fake = with_clock is not None
        if with_clock is not None:
            self.cache = with_clock(lambda: self.now, capacity, **options)
        else:
            self.cache = Moka(capacity, **options)

    def age(self) -> None:
        if self.fake:
            self.now += 1_000_000_000  # 1 s, 20 x REFRESH
        else:
            time.sleep(STALE)


def eventually(condition: Callable[[], bool], what: str) -> None:
    """Poll until ``condition()`` holds; fail after ``PATIENCE`` seconds (a lost reload)."""
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {PATIENCE} s")
        time.sleep(0.002)


class Loads:
    """An initializer whose n-th run waits for ``release(n)`` and returns ``"v<n>"``."""

    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail
        self._lock = threading.Lock()
        self._started: dict[int, threading.Event] = {}
        self._gates: dict[int, threading.Event] = {}

    def _event(self, table: dict[int, threading.Event], n: int) -> threading.Event:
        with self._lock:
            return table.setdefault(n, threading.Event())

    def __call__(self) -> str:
        with self._lock:
            self.calls += 1
            n = self.calls
        self._event(self._started, n).set()
        assert self._event(self._gates, n).wait(PATIENCE), "a reload was never released"
        if self.fail:
            raise LookupError(f"load {n} failed")
        return f"v{n}"

    def started(self, n: int) -> bool:
        return self._event(self._started, n).is_set()

    def release(self, n: int) -> None:
        self._event(self._gates, n).set()


def stale_hit(aged: Aged, loads: Loads, key: str = "k") -> Any:
    """``get_with`` on an entry that was just made due: returns what it returned."""
    aged.age()
    return aged.cache.get_with(key, loads, refresh_after=REFRESH)


def test_a_stale_hit_returns_the_old_value_and_reloads_once(Moka: Any) -> None:
    aged = Aged(Moka)
    cache = aged.cache
    loads = Loads()
    cache.set("k", "old")
    assert stale_hit(aged, loads) == "old"  # returned while the reload is held
    eventually(lambda: loads.started(1), "the reload")
    assert cache.get_with("k", loads, refresh_after=REFRESH) == "old"  # one in flight: no second
    assert loads.calls == 1
    loads.release(1)
    eventually(lambda: cache.peek("k") == "v1", "the reloaded value")
    assert loads.calls == 1
    stats = cache.stats()
    assert (stats.loads, stats.load_failures) == (1, 0)


def test_a_fresh_hit_does_not_reload(Moka: Any) -> None:
    aged = Aged(Moka)
    loads = Loads()
    loads.release(1)
    assert aged.cache.get_with("k", loads, refresh_after=REFRESH) == "v1"  # a miss loads
    assert aged.cache.get_with("k", loads, refresh_after=10) == "v1"  # 10 s: not due
    assert loads.calls == 1


def test_the_reload_replaces_the_value_and_the_listener_sees_replaced(Moka: Any) -> None:
    log = EventLog()
    aged = Aged(Moka, eviction_listener=log)
    loads = Loads()
    loads.release(1)
    aged.cache.set("k", "old")
    assert stale_hit(aged, loads) == "old"
    eventually(lambda: aged.cache.peek("k") == "v1", "the reloaded value")
    eventually(lambda: bool(log.events), "the listener event")
    assert log.take() == [("k", "old", "replaced")]


def test_a_failed_reload_keeps_the_old_value_and_counts(Moka: Any) -> None:
    aged = Aged(Moka)
    loads = Loads(fail=True)
    loads.release(1)
    aged.cache.set("k", "old")
    assert stale_hit(aged, loads) == "old"
    eventually(lambda: aged.cache.stats().load_failures == 1, "the failed reload")
    assert aged.cache.peek("k") == "old"
    assert aged.cache.stats().loads == 1


def test_a_stale_hit_after_a_failed_reload_reloads_again(Moka: Any) -> None:
    # The failed reload gave its key back: the same write, still due, is reloaded once more.
    aged = Aged(Moka)
    loads = Loads(fail=True)
    loads.release(1)
    aged.cache.set("k", "old")
    assert stale_hit(aged, loads) == "old"
    eventually(lambda: aged.cache.stats().load_failures == 1, "the failed reload")
    loads.fail = False
    loads.release(2)

    def reloaded() -> bool:
        assert aged.cache.get_with("k", loads, refresh_after=REFRESH) in ("old", "v2")
        return bool(aged.cache.peek("k") == "v2")

    eventually(reloaded, "the second reload's value")
    assert (aged.cache.stats().load_failures, loads.calls) == (1, 2)


def finished_first_reload(aged: Aged, loads: Loads, expected: Any) -> None:
    """Wait until reload 1 has released its key: a new stale hit then starts reload 2."""
    loads.release(1)

    def second_started() -> bool:
        aged.age()
        assert aged.cache.get_with("k", loads, refresh_after=REFRESH) == expected
        return loads.started(2)

    eventually(second_started, "the second reload")
    assert aged.cache.peek("k") == expected  # reload 1 wrote nothing; reload 2 is held
    loads.release(2)


def test_a_set_during_the_reload_wins(Moka: Any) -> None:
    aged = Aged(Moka)
    loads = Loads()
    aged.cache.set("k", "old")
    assert stale_hit(aged, loads) == "old"
    eventually(lambda: loads.started(1), "the reload")
    aged.cache.set("k", "mine")
    finished_first_reload(aged, loads, "mine")


@pytest.mark.parametrize("how", ["remove", "clear"])
def test_a_removal_during_the_reload_wins(Moka: Any, how: str) -> None:
    aged = Aged(Moka)
    loads = Loads()
    aged.cache.set("k", "old")
    assert stale_hit(aged, loads) == "old"
    eventually(lambda: loads.started(1), "the reload")
    if how == "remove":
        assert aged.cache.remove("k") == "old"
    else:
        aged.cache.clear()
    assert "k" not in aged.cache
    # Stored again by a load of its own: reload 1 started from the removed entry, so it must
    # neither bring "old"'s state back nor overwrite this one.
    assert aged.cache.get_with("k", lambda: "fresh") == "fresh"
    finished_first_reload(aged, loads, "fresh")


def test_one_reload_per_key_under_eight_threads(Moka: Any) -> None:
    aged = Aged(Moka)
    loads = Loads()
    aged.cache.set("k", "old")
    aged.age()

    def hits() -> list[Any]:
        return [aged.cache.get_with("k", loads, refresh_after=REFRESH) for _ in range(50)]

    outcomes = run_threads(hits, 8)
    assert outcomes == [("ok", ["old"] * 50)] * 8
    eventually(lambda: loads.started(1), "the reload")  # on a worker thread: it may start late
    assert loads.calls == 1
    loads.release(1)
    eventually(lambda: aged.cache.peek("k") == "v1", "the reloaded value")
    assert loads.calls == 1


def test_one_reload_per_key_under_a_hundred_tasks(Moka: Any) -> None:
    aged = Aged(Moka)
    cache = aged.cache
    cache.set("k", "old")
    aged.age()
    calls = 0

    async def main() -> list[Any]:
        gate = asyncio.Event()

        async def load() -> str:
            nonlocal calls
            calls += 1
            await gate.wait()
            return "new"

        async def hit() -> Any:
            return await cache.aget_with("k", load, refresh_after=REFRESH)

        results = await asyncio.gather(*(hit() for _ in range(100)))
        for _ in range(10):
            await asyncio.sleep(0)  # the reload task runs up to its gate
        assert calls == 1
        gate.set()
        while cache.peek("k") != "new":
            await asyncio.sleep(0.001)
        return list(results)

    assert asyncio.run(asyncio.wait_for(main(), PATIENCE)) == ["old"] * 100
    assert calls == 1
    assert cache.stats().loads == 1


def test_a_failed_async_reload_keeps_the_old_value(Moka: Any) -> None:
    aged = Aged(Moka)
    aged.cache.set("k", "old")
    aged.age()

    async def load() -> str:
        raise LookupError("no")

    async def main() -> Any:
        value = await aged.cache.aget_with("k", load, refresh_after=REFRESH)
        while aged.cache.stats().load_failures == 0:
            await asyncio.sleep(0.001)
        return value

    assert asyncio.run(asyncio.wait_for(main(), PATIENCE)) == "old"
    assert aged.cache.peek("k") == "old"


BAD_TYPES = ["1", True, None.__class__]
BAD_VALUES = [0, -1, -0.5, math.nan, math.inf]


@pytest.mark.parametrize("bad", BAD_TYPES, ids=repr)
def test_refresh_after_must_be_a_number(Moka: Any, bad: Any) -> None:
    cache = Moka(10)
    with pytest.raises(TypeError, match="refresh_after must be a number of seconds"):
        cache.get_with("k", lambda: 1, refresh_after=bad)
    with pytest.raises(TypeError, match="refresh_after must be a number of seconds"):
        cache.aget_with("k", lambda: None, refresh_after=bad)
    with pytest.raises(TypeError, match="refresh_after must be a number of seconds"):
        cached(refresh_after=bad)
    assert "k" not in cache


@pytest.mark.parametrize("bad", BAD_VALUES, ids=repr)
def test_refresh_after_must_be_positive_and_finite(Moka: Any, bad: Any) -> None:
    cache = Moka(10)
    with pytest.raises(ValueError, match="refresh_after must be finite, > 0"):
        cache.get_with("k", lambda: 1, refresh_after=bad)
    with pytest.raises(ValueError, match="refresh_after must be finite, > 0"):
        cache.aget_with("k", lambda: None, refresh_after=bad)
    with pytest.raises(ValueError, match="refresh_after must be finite, > 0"):
        cached(refresh_after=bad)


def test_refresh_after_must_be_below_the_ttl_in_effect(Moka: Any) -> None:
    cache = Moka(10, ttl=5)
    with pytest.raises(ValueError, match=r"refresh_after \(5\) must be below the cache's ttl"):
        cache.get_with("k", lambda: 1, refresh_after=5)
    with pytest.raises(ValueError, match=r"refresh_after \(2\) must be below ttl \(1\)"):
        cache.get_with("k", lambda: 1, ttl=1, refresh_after=2)
    with pytest.raises(ValueError, match=r"must be below ttl \(1\)"):
        cache.aget_with("k", lambda: None, ttl=1, refresh_after=2)
    with pytest.raises(ValueError, match=r"refresh_after \(3\) must be below ttl \(3\)"):
        cached(ttl=3, refresh_after=3)
    assert cache.get_with("k", lambda: 1, ttl=10, refresh_after=5) == 1  # the call's ttl counts
    assert "k" in cache


def test_cached_refresh_after_recomputes_in_the_background() -> None:
    runs: list[int] = []
    gate = threading.Event()

    @cached(maxsize=8, refresh_after=REFRESH)
    def square(x: int) -> int:
        runs.append(x)
        if len(runs) > 1:
            assert gate.wait(PATIENCE)
            return x * x + 1  # the reload's result, told apart from the first
        return x * x

    assert square(3) == 9
    time.sleep(STALE)
    assert square(3) == 9  # due: the old result at once, the reload held on the gate
    eventually(lambda: len(runs) == 2, "the reload")
    gate.set()
    eventually(lambda: square(3) == 10, "the reloaded result")
    info = square.cache_info()
    assert info.misses == 1  # the first call; a reload is no call
    assert info.hits >= 2
    assert square.cache_parameters()["refresh_after"] == REFRESH


def test_cached_async_refresh_after() -> None:
    runs = 0

    @cached(maxsize=8, refresh_after=REFRESH)
    async def answer() -> int:
        nonlocal runs
        runs += 1
        return runs

    async def main() -> None:
        assert await answer() == 1
        await asyncio.sleep(STALE)
        assert await answer() == 1  # due: the old result, the reload is a task
        while await answer() != 2:
            await asyncio.sleep(0.001)

    asyncio.run(asyncio.wait_for(main(), PATIENCE))
    assert runs == 2
