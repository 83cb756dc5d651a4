"""``aget_with``: coalesced async loads, one per key and event loop (API.md section 8).

No test here depends on timing: awaiters are counted in before a load is released, and a hang
(a blocked loop, a load waiting for itself) fails through a watchdog instead of hanging the run.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from moka_py import cached

from moka_py_conformance._support import run_with_watchdog

pytestmark = pytest.mark.contract  # the contract tier (conformance README)

AWAITERS = 100
WATCHDOG = 30.0  # seconds: only a deadlock gets near it


def run(main: Callable[[], Awaitable[Any]]) -> Any:
    """``asyncio.run(main())`` under a watchdog (a deadlocked loop fails the test, not the run)."""
    results: list[Any] = []

    def target() -> None:
        results.append(asyncio.run(asyncio.wait_for(main(), WATCHDOG)))

    run_with_watchdog(target, WATCHDOG + 10, "an asyncio test")
    return results[0]


async def settle(condition: Callable[[], bool]) -> None:
    """Yield to the loop until ``condition()`` holds (the caller's watchdog bounds it)."""
    while not condition():
        await asyncio.sleep(0)


class Gate:
    """A load that waits until released, counting its runs."""

    def __init__(self, value: object) -> None:
        self.value = value
        self.calls = 0
        self.started = asyncio.Event()
        self.released = asyncio.Event()

    async def load(self) -> object:
        self.calls += 1
        self.started.set()
        await self.released.wait()
        return self.value


def test_awaiters_share_one_load(Moka: Any) -> None:
    cache = Moka(100)
    value = object()

    async def main() -> list[object]:
        gate = Gate(value)
        joined = 0

        async def awaiter() -> object:
            nonlocal joined
            joined += 1  # aget_with joins the load in this same step (no await before it)
            return await cache.aget_with("key", gate.load)

        tasks = [asyncio.ensure_future(awaiter()) for _ in range(AWAITERS)]
        await settle(lambda: joined == AWAITERS and gate.started.is_set())
        gate.released.set()
        results = await asyncio.gather(*tasks)
        assert gate.calls == 1
        return results

    cache.reset_stats()
    assert run(main) == [value] * AWAITERS
    assert cache.get("key") is value
    stats = cache.stats()
    assert (stats.loads, stats.load_failures) == (1, 0)
    assert (stats.hits, stats.misses) == (1, AWAITERS), "first lookups are misses; waiters add none"


def test_a_stored_value_is_returned_without_a_load(Moka: Any) -> None:
    cache = Moka(100)
    cache.set("key", "stored")

    async def never() -> object:
        raise AssertionError("the initializer ran on a hit")

    assert run(lambda: cache.aget_with("key", never)) == "stored"
    assert cache.stats().hits == 1


def test_an_error_reaches_every_awaiter_and_nothing_is_stored(Moka: Any) -> None:
    cache = Moka(100)
    calls = 0

    async def main() -> list[BaseException | object]:
        released = asyncio.Event()
        joined = 0

        async def failing() -> object:
            nonlocal calls
            calls += 1
            await released.wait()
            raise ValueError("no value today")

        async def awaiter() -> object:
            nonlocal joined
            joined += 1
            return await cache.aget_with("key", failing)

        tasks = [asyncio.ensure_future(awaiter()) for _ in range(10)]
        await settle(lambda: joined == 10)
        released.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    results = run(main)
    assert calls == 1
    assert all(isinstance(r, ValueError) for r in results)
    assert len({id(r) for r in results}) == 1, "every awaiter gets the same exception object"
    assert "key" not in cache
    assert cache.stats().load_failures == 1

    async def fine() -> str:
        return "second try"

    assert run(lambda: cache.aget_with("key", fine)) == "second try"


def test_an_initializer_that_returns_no_awaitable_fails_that_load(Moka: Any) -> None:
    cache = Moka(100)
    with pytest.raises(TypeError):
        run(lambda: cache.aget_with("key", lambda: "not awaitable"))
    assert "key" not in cache
    assert cache.stats().load_failures == 1


def test_cancelling_one_awaiter_leaves_the_load_to_the_others(Moka: Any) -> None:
    cache = Moka(100)

    async def main() -> object:
        gate = Gate("loaded")
        first = asyncio.ensure_future(cache.aget_with("key", gate.load))
        second = asyncio.ensure_future(cache.aget_with("key", gate.load))
        await gate.started.wait()
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        gate.released.set()
        result = await second
        assert gate.calls == 1
        return result

    assert run(main) == "loaded"
    assert cache.get("key") == "loaded"


def test_cancelling_every_awaiter_lets_the_load_finish_and_store(Moka: Any) -> None:
    cache = Moka(100)

    async def main() -> None:
        gate = Gate("loaded")
        awaiters = [asyncio.ensure_future(cache.aget_with("key", gate.load)) for _ in range(3)]
        await gate.started.wait()
        for a in awaiters:
            a.cancel()
        await asyncio.gather(*awaiters, return_exceptions=True)
        assert all(a.cancelled() for a in awaiters)
        gate.released.set()
        await settle(lambda: "key" in cache)  # the load runs on, referenced by the cache
        assert await cache.aget_with("key", gate.load) == "loaded"
        assert gate.calls == 1

    run(main)
    assert cache.get("key") == "loaded"


def test_a_load_that_awaits_its_own_key_raises(Moka: Any) -> None:
    cache = Moka(100)

    async def inner() -> str:
        return "inner"

    async def recursive() -> object:
        return await cache.aget_with("key", inner)

    async def via_a_task() -> object:
        return await asyncio.ensure_future(cache.aget_with("key", inner))

    for load in (recursive, via_a_task):
        with pytest.raises(
            RuntimeError, match="^aget_with: the initializer for this key awaited aget_with for the same key$"
        ):
            run(lambda load=load: cache.aget_with("key", load))  # type: ignore[misc]
        assert "key" not in cache
    assert run(lambda: cache.aget_with("key", inner)) == "inner"


def test_a_load_may_await_another_key(Moka: Any) -> None:
    cache = Moka(100)

    async def one() -> int:
        return 1

    async def outer() -> int:
        return int(await cache.aget_with("inner", one)) + 1

    assert run(lambda: cache.aget_with("outer", outer)) == 2
    assert (cache.get("inner"), cache.get("outer")) == (1, 2)


def test_the_loop_runs_other_tasks_while_a_load_waits(Moka: Any) -> None:
    cache = Moka(100)

    async def main() -> object:
        ready = asyncio.Event()

        async def load() -> str:
            await ready.wait()  # set by another task: a blocked loop would never run it
            return "loaded"

        async def other() -> None:
            # A second awaiter of the key and another key's load, both while the first load waits.
            await asyncio.sleep(0)
            assert await cache.aget_with("other", lambda: asyncio.sleep(0, "other")) == "other"
            ready.set()

        return (await asyncio.gather(cache.aget_with("key", load), other(), cache.aget_with("key", load)))

    assert run(main) == ["loaded", None, "loaded"]


def test_each_event_loop_has_its_own_load(Moka: Any) -> None:
    # A load in flight on one loop does not hold up another loop's caller: that one loads too.
    cache = Moka(100)
    a_started = threading.Event()
    b_done = threading.Event()
    results: dict[str, object] = {}

    async def slow_a() -> str:
        a_started.set()
        while not b_done.is_set():  # a blocked loop B would leave this to the watchdog
            await asyncio.sleep(0.001)
        return "a"

    async def fast_b() -> str:
        return "b"

    def loop_a() -> None:
        results["a"] = asyncio.run(cache.aget_with("key", slow_a))

    def loop_b() -> None:
        a_started.wait()
        results["b"] = asyncio.run(cache.aget_with("key", fast_b))
        b_done.set()

    def both() -> None:
        threads = [threading.Thread(target=t, daemon=True) for t in (loop_a, loop_b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    run_with_watchdog(both, WATCHDOG, "two event loops loading one key")
    assert (results["a"], results["b"]) == ("a", "b")
    assert cache.get("key") == "a", "the later write wins"


def test_arguments_are_checked_when_called(Moka: Any) -> None:
    cache = Moka(100)
    with pytest.raises(TypeError, match="initializer"):
        cache.aget_with("key", "not callable")
    with pytest.raises(ValueError, match="ttl"):
        cache.aget_with("key", lambda: asyncio.sleep(0, 1), ttl=-1)
    with pytest.raises(TypeError):
        run(lambda: cache.aget_with(["unhashable"], lambda: asyncio.sleep(0, 1)))


def test_per_entry_ttl_applies_to_the_stored_value(Moka: Any) -> None:
    cache = Moka(100)
    assert run(lambda: cache.aget_with("key", lambda: asyncio.sleep(0, "v"), ttl=500)) == "v"
    left = cache.expires_in("key")
    assert left is not None and 0 < left <= 500


def test_cached_async_wait_concurrent_shares_the_load() -> None:
    runs = 0

    async def main() -> list[object]:
        released = asyncio.Event()

        @cached(wait_concurrent=True)
        async def slow(x: int) -> object:
            nonlocal runs
            runs += 1
            await released.wait()
            return ("result", x)

        tasks = [asyncio.ensure_future(slow(4)) for _ in range(20)]
        await settle(lambda: runs == 1)
        for _ in range(3):
            await asyncio.sleep(0)  # every task has reached the shared load
        released.set()
        results = await asyncio.gather(*tasks)
        info = slow.cache_info()
        assert (info.hits, info.misses, info.currsize) == (19, 1, 1)
        assert await slow(4) == ("result", 4)
        return results

    assert run(main) == [("result", 4)] * 20
    assert runs == 1


def test_cached_async_load_survives_the_cancellation_of_every_caller() -> None:
    async def main() -> None:
        released = asyncio.Event()
        runs = 0

        @cached(wait_concurrent=True)
        async def slow(x: int) -> int:
            nonlocal runs
            runs += 1
            await released.wait()
            return x * 2

        caller = asyncio.ensure_future(slow(3))
        await settle(lambda: runs == 1)
        caller.cancel()
        await asyncio.gather(caller, return_exceptions=True)
        released.set()
        await settle(lambda: slow.cache_info().currsize == 1)
        assert await slow(3) == 6
        assert runs == 1

    run(main)


def test_a_value_stored_before_the_load_starts_is_not_loaded_again(Moka: Any) -> None:
    # The load looks once more, without recording a read, before it awaits the initializer.
    cache = Moka(100)

    async def never() -> str:
        raise AssertionError("loaded although a value was stored meanwhile")

    async def main() -> object:
        awaiter = asyncio.ensure_future(cache.aget_with("key", never))
        await asyncio.sleep(0)  # the awaiter missed and created the load, which has not run yet
        cache.set("key", "stored meanwhile")
        return await awaiter

    cache.reset_stats()
    assert run(main) == "stored meanwhile"
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.loads) == (0, 1, 0)


def test_a_load_that_outlives_clear_stores_its_value_and_reports_like_a_write(Moka: Any) -> None:
    events: list[tuple[object, object, str]] = []
    cache = Moka(100, eviction_listener=lambda k, v, cause: events.append((k, v, cause)))
    cache.set("key", "old")

    async def main() -> None:
        gate = Gate("new")
        cache.remove("key")
        awaiter = asyncio.ensure_future(cache.aget_with("key", gate.load))
        await gate.started.wait()
        cache.clear()  # nothing stored for the key: the load in flight is not affected
        gate.released.set()
        assert await awaiter == "new"

    run(main)
    cache.run_pending_tasks()
    assert cache.get("key") == "new"
    assert events == [("key", "old", "explicit")]


def test_a_cache_of_capacity_zero_shares_a_load_and_stores_nothing(Moka: Any) -> None:
    cache = Moka(0)

    async def main() -> list[object]:
        gate = Gate("v")
        awaiters = [asyncio.ensure_future(cache.aget_with("key", gate.load)) for _ in range(5)]
        await gate.started.wait()
        gate.released.set()
        results = await asyncio.gather(*awaiters)
        assert gate.calls == 1
        assert await cache.aget_with("key", gate.load) == "v"
        assert gate.calls == 2, "nothing was stored: the next call loads again"
        return results

    assert run(main) == ["v"] * 5
    assert "key" not in cache
