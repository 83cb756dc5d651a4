"""The ``cached`` decorator (API.md section 5), against whichever backend is selected.

``moka_py.cached`` is either the generic decorator or the backend's own faster
one; both must pass every test here.  Where ``functools.lru_cache`` defines the
behaviour (keys, ``typed``, ``cache_info``), the tests compare against it.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
import time
from collections.abc import Hashable
from typing import Any

import pytest
from moka_py import cached
from moka_py._cached import CachedFunction

from moka_py_conformance._support import run_threads

pytestmark = pytest.mark.contract  # the contract tier (conformance README)

THREADS = 8


def settled_size(func: Any) -> int:
    """The number of cached results once housekeeping has run."""
    func.cache.run_pending_tasks()
    return int(func.cache.count())


# --------------------------------------------------------------------------- forms


def test_bare_form() -> None:
    calls: list[int] = []

    @cached
    def double(x: int) -> int:
        calls.append(x)
        return 2 * x

    assert double(2) == 4
    assert double(2) == 4
    assert calls == [2]
    assert double.cache_parameters()["maxsize"] == 128
    assert double.cache_parameters()["typed"] is False


@pytest.mark.parametrize("decorator", [cached(), cached(16), cached(maxsize=16, typed=True)])
def test_called_forms(decorator: Any) -> None:
    calls: list[int] = []

    def plain_double(x: int) -> int:
        calls.append(x)
        return 2 * x

    double = decorator(plain_double)
    assert [double(1), double(1), double(2), double(1)] == [2, 2, 4, 2]
    assert calls == [1, 2]


def test_one_decorator_gives_each_function_its_own_cache() -> None:
    decorator = cached(maxsize=10)

    @decorator
    def one(x: int) -> str:
        return f"one{x}"

    @decorator
    def two(x: int) -> str:
        return f"two{x}"

    assert (one(1), two(1), one(1), two(1)) == ("one1", "two1", "one1", "two1")
    assert one.cache is not two.cache
    assert one.cache_info()[:2] == (1, 1)
    assert two.cache_info()[:2] == (1, 1)


def test_metadata_is_kept() -> None:
    def original(x: int, *, y: int = 0) -> int:
        """Add things up."""
        return x + y

    wrapped = cached(maxsize=4)(original)
    assert wrapped.__wrapped__ is original
    assert wrapped.__name__ == "original"
    assert wrapped.__qualname__ == original.__qualname__
    assert wrapped.__module__ == original.__module__
    assert wrapped.__doc__ == "Add things up."
    assert inspect.signature(wrapped) == inspect.signature(original)


def _async_original(x: int) -> Any:
    async def original(x: int) -> int:
        return x

    return original


@pytest.mark.parametrize(
    "decorator", [cached, cached(typed=True), cached(wait_concurrent=True), cached(key=lambda x: x)]
)
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_repr_names_the_function(decorator: Any, is_async: bool) -> None:
    # Every form, native wrappers included, reads like the function it stands for.
    def original(x: int) -> int:
        return x

    wrapped = decorator(_async_original(0) if is_async else original)
    assert repr(wrapped) == f"<function {wrapped.__qualname__} at {id(wrapped):#x}>"
    assert wrapped.__qualname__.endswith(".original")

    class Holder:
        method = decorator(original)

    bound = repr(Holder().method)
    assert bound.startswith(f"<bound method {Holder.method.__qualname__} of <"), bound


def test_wrapper_methods_are_documented() -> None:
    wrapped = cached(lambda x: x)
    for name in ("cache_info", "cache_clear", "cache_parameters"):
        doc = inspect.getdoc(getattr(wrapped, name))
        assert doc and doc == inspect.getdoc(getattr(CachedFunction, name)), name
        assert list(inspect.signature(getattr(wrapped, name)).parameters) == [], name


# --------------------------------------------------------------------------- what is cached


def test_none_results_are_cached() -> None:
    calls: list[int] = []

    @cached
    def nothing(x: int) -> None:
        calls.append(x)

    assert nothing(1) is None
    assert nothing(1) is None
    assert calls == [1]
    assert nothing.cache_info()[:2] == (1, 1)


def test_exceptions_are_not_cached() -> None:
    calls: list[int] = []

    @cached
    def fragile(x: int) -> int:
        calls.append(x)
        if len(calls) == 1:
            raise ValueError("first call fails")
        return x

    with pytest.raises(ValueError, match="first call fails"):
        fragile(1)
    assert fragile(1) == 1
    assert fragile(1) == 1
    assert calls == [1, 1]


def test_values_are_returned_by_reference() -> None:
    @cached
    def fresh_list(x: int) -> list[int]:
        return [x]

    first = fresh_list(1)
    assert fresh_list(1) is first


CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((1,), {}),
    ((1.0,), {}),
    ((True,), {}),
    (("1",), {}),
    ((1, 2), {}),
    ((1.0, 2), {}),
    ((1, 2.0), {}),
    ((), {"a": 1}),
    ((), {"a": 1.0}),
    ((), {"a": 1, "b": 2}),
    ((), {"b": 2, "a": 1}),
    ((1,), {"b": 2}),
    ((1, 2), {}),
    ((), {"a": 1, "b": 2}),
    ((None,), {}),
    (((1, 2),), {}),
    (((1.0, 2),), {}),
    ((1,), {}),
    ((1.0,), {}),
    ((1, 2.0), {}),
    ((), {"b": 2, "a": 1}),
]


@pytest.mark.parametrize("typed", [False, True])
def test_keys_follow_lru_cache(typed: bool) -> None:
    """Hits and misses match ``lru_cache`` call for call: keyword order matters, ``typed`` splits types."""

    def target(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
        return (args, kwargs)

    reference = functools.lru_cache(maxsize=None, typed=typed)(target)
    ours = cached(maxsize=None, typed=typed)(target)
    for args, kwargs in CALLS:
        assert ours(*args, **kwargs) == reference(*args, **kwargs)
        assert ours.cache_info()[:2] == reference.cache_info()[:2], (args, kwargs)
    assert settled_size(ours) == reference.cache_info().currsize


def test_typed_separates_equal_values_of_different_types() -> None:
    untyped_calls: list[Any] = []
    typed_calls: list[Any] = []

    @cached(typed=False)
    def untyped(x: Any, y: int) -> Any:
        untyped_calls.append(x)
        return x

    @cached(typed=True)
    def typed(x: Any, y: int) -> Any:
        typed_calls.append(x)
        return x

    for function in (untyped, typed):
        function(1, 0)
        function(1.0, 0)
        function(True, 0)
    assert len(untyped_calls) == 1
    assert len(typed_calls) == 3


def test_unhashable_arguments_raise_type_error() -> None:
    @cached
    def length(items: list[int]) -> int:
        return len(items)

    with pytest.raises(TypeError):
        length([1, 2])


def test_key_function_replaces_the_default_key() -> None:
    calls: list[tuple[Any, ...]] = []
    seen_keys: list[tuple[Any, dict[str, Any]]] = []

    def by_user(user: dict[str, Any], *, verbose: bool = False) -> Hashable:
        seen_keys.append((user, {"verbose": verbose}))
        return ("user", user["id"])

    @cached(key=by_user)
    def describe(user: dict[str, Any], *, verbose: bool = False) -> str:
        calls.append((user["id"], verbose))
        return f"user {user['id']}"

    assert describe({"id": 1, "name": "a"}) == "user 1"
    assert describe({"id": 1, "name": "b"}, verbose=True) == "user 1"  # same key: a hit
    assert describe({"id": 2}) == "user 2"
    assert calls == [(1, False), (2, False)]
    assert seen_keys[1] == ({"id": 1, "name": "b"}, {"verbose": True})
    assert ("user", 1) in describe.cache
    assert describe.cache_info()[:2] == (1, 2)


# --------------------------------------------------------------------------- methods


class Counter:
    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[int] = []

    @cached(maxsize=64)
    def scaled(self, x: int) -> str:
        """A method with a cache."""
        self.calls.append(x)
        return f"{self.name}:{x}"

    @cached(maxsize=64, wait_concurrent=True)
    def coalesced(self, x: int) -> str:
        self.calls.append(x)
        return f"{self.name}:{x}"

    @cached(maxsize=64)
    async def fetch(self, x: int) -> str:
        self.calls.append(x)
        await asyncio.sleep(0)
        return f"{self.name}:{x}"


@pytest.mark.parametrize("method", ["scaled", "coalesced"])
def test_methods_key_on_the_instance(method: str) -> None:
    a, b = Counter("a"), Counter("b")
    call_a = getattr(a, method)
    call_b = getattr(b, method)
    assert (call_a(1), call_a(1), call_b(1), call_b(1), call_a(2)) == ("a:1", "a:1", "b:1", "b:1", "a:2")
    assert a.calls == [1, 2]
    assert b.calls == [1]
    function = getattr(Counter, method)
    assert function(a, 1) == "a:1"  # unbound call: same key as a.method(1)
    assert a.calls == [1, 2]


def test_method_metadata() -> None:
    assert Counter.scaled.__doc__ == "A method with a cache."
    assert Counter.scaled.__name__ == "scaled"
    assert Counter.scaled.__qualname__ == "Counter.scaled"


def test_async_methods_key_on_the_instance() -> None:
    a, b = Counter("a"), Counter("b")

    async def main() -> list[str]:
        return [await a.fetch(1), await a.fetch(1), await b.fetch(1)]

    assert asyncio.run(main()) == ["a:1", "a:1", "b:1"]
    assert asyncio.run(a.fetch(1)) == "a:1"
    assert a.calls == [1]
    assert b.calls == [1]


# --------------------------------------------------------------------------- size and time bounds


def test_maxsize_none_is_unbounded() -> None:
    @cached(maxsize=None)
    def identity(x: int) -> int:
        return x

    for i in range(2000):
        identity(i)
    assert identity.cache.capacity is None
    assert settled_size(identity) == 2000
    assert identity.cache_info().maxsize is None


def test_maxsize_bounds_the_cache() -> None:
    @cached(maxsize=10)
    def identity(x: int) -> int:
        return x

    for i in range(200):
        identity(i)
    assert settled_size(identity) <= 10
    assert identity.cache.capacity == 10


def test_maxsize_zero_caches_nothing() -> None:
    calls: list[int] = []

    @cached(maxsize=0)
    def identity(x: int) -> int:
        calls.append(x)
        return x

    assert [identity(1), identity(1), identity(1)] == [1, 1, 1]
    assert calls == [1, 1, 1]
    assert identity.cache_info()[:] == (0, 3, 0, 0)


def test_weigher_gets_key_and_value_and_bounds_the_total_weight() -> None:
    weighed: list[tuple[Any, Any]] = []

    def weigher(key: Any, value: str) -> int:
        weighed.append((key, value))
        return len(value)

    @cached(maxsize=100, weigher=weigher, key=lambda n: ("n", n))
    def text(n: int) -> str:
        return "x" * n

    text(3)
    text(4)
    text(3)
    assert weighed == [(("n", 3), "xxx"), (("n", 4), "xxxx")]
    text.cache.run_pending_tasks()
    assert text.cache.weighted_size() == 7


def test_policy_and_durations_reach_the_cache(Moka: Any) -> None:
    @cached(maxsize=5, ttl=30, tti=7.5, policy="lru")
    def identity(x: int) -> int:
        return x

    assert isinstance(identity.cache, Moka)
    assert identity.cache.capacity == 5
    assert identity.cache.ttl == 30.0
    assert identity.cache.tti == 7.5
    assert identity.cache.policy == "lru"


def test_ttl_expires_results() -> None:
    calls: list[int] = []

    @cached(ttl=0.2)
    def stamp(x: int) -> int:
        calls.append(x)
        return len(calls)

    assert stamp(1) == 1
    assert stamp(1) == 1
    time.sleep(1.0)  # five times the ttl: expired on any machine
    assert stamp(1) == 2
    assert calls == [1, 1]


def test_tti_expires_idle_results() -> None:
    calls: list[int] = []

    @cached(tti=0.2)
    def stamp(x: int) -> int:
        calls.append(x)
        return len(calls)

    assert stamp(1) == 1
    time.sleep(1.0)
    assert stamp(1) == 2


def test_async_ttl_expires_results() -> None:
    calls: list[int] = []

    @cached(ttl=0.2)
    async def stamp(x: int) -> int:
        calls.append(x)
        return len(calls)

    assert asyncio.run(stamp(1)) == 1
    assert asyncio.run(stamp(1)) == 1
    time.sleep(1.0)
    assert asyncio.run(stamp(1)) == 2


# --------------------------------------------------------------------------- introspection


def test_cache_info_counts_hits_and_misses() -> None:
    @cached(maxsize=32)
    def square(x: int) -> int:
        return x * x

    info = square.cache_info()
    assert isinstance(info, functools._CacheInfo)
    assert info == (0, 0, 32, 0)
    for x in [1, 2, 1, 1, 3, 2]:
        square(x)
    info = square.cache_info()
    assert (info.hits, info.misses, info.maxsize, info.currsize) == (3, 3, 32, 3)
    assert square.cache_info() == info  # reading does not count


@pytest.mark.parametrize("wait_concurrent", [False, True])
def test_cache_info_is_derived_from_the_caches_statistics(wait_concurrent: bool) -> None:
    """API.md section 7: cache_info() reads stats(); the cache's own reads count, reset_stats() resets it."""

    @cached(maxsize=32, wait_concurrent=wait_concurrent)
    def square(x: int) -> int:
        return x * x

    square(2)
    square(2)
    stats = square.cache.stats()
    assert (stats.hits, stats.misses, stats.loads) == (1, 1, 1 if wait_concurrent else 0)  # one read a call
    assert square.cache_info()[:2] == (1, 1)
    assert square.cache.get(2) == 4 and square.cache.get(3) is None  # reads through .cache count
    # with wait_concurrent, misses are the runs (loads) and every other read is a hit
    assert square.cache_info()[:2] == ((3, 1) if wait_concurrent else (2, 2))
    square.cache.reset_stats()
    assert square.cache_info() == (0, 0, 32, 1)
    square.cache_clear()  # empties the cache and resets its statistics, the clear's removals too
    assert square.cache_info() == (0, 0, 32, 0)
    assert dict(square.cache.stats().evictions) == {"explicit": 0, "size": 0, "expired": 0, "replaced": 0}


def test_cache_info_misses_count_runs_that_raised() -> None:
    for wait_concurrent in (False, True):

        @cached(wait_concurrent=wait_concurrent)
        def fail(x: int) -> int:
            raise KeyError(x)

        for _ in range(2):
            with pytest.raises(KeyError):
                fail(1)
        assert fail.cache_info()[:2] == (0, 2), wait_concurrent


def test_cache_info_never_loses_a_count_under_threads() -> None:
    @cached(maxsize=None)
    def identity(x: int) -> int:
        return x

    per_thread = 3000
    run_threads(lambda: [identity(i % 50) for i in range(per_thread)])
    info = identity.cache_info()
    assert info.hits + info.misses == THREADS * per_thread
    assert 50 <= info.misses <= 50 * THREADS
    assert info.currsize == 50


def test_cache_clear_empties_the_cache_and_resets_counters() -> None:
    calls: list[int] = []

    @cached
    def identity(x: int) -> int:
        calls.append(x)
        return x

    identity(1)
    identity(1)
    identity(2)
    identity.cache_clear()
    assert identity.cache_info() == (0, 0, 128, 0)
    assert identity.cache.count() == 0
    identity(1)
    assert calls == [1, 2, 1]
    assert identity.cache_info()[:2] == (0, 1)


def test_cache_parameters() -> None:
    @cached(maxsize=64, typed=True, ttl=10, tti=2.5, wait_concurrent=True, policy="lru")
    def identity(x: int) -> int:
        return x

    assert identity.cache_parameters() == {
        "maxsize": 64,
        "typed": True,
        "ttl": 10,
        "tti": 2.5,
        "refresh_after": None,
        "wait_concurrent": True,
        "policy": "lru",
    }

    @cached
    def plain(x: int) -> int:
        return x

    assert plain.cache_parameters() == {
        "maxsize": 128,
        "typed": False,
        "ttl": None,
        "tti": None,
        "refresh_after": None,
        "wait_concurrent": False,
        "policy": "tiny_lfu",
    }


def test_cache_attribute_is_a_moka(Moka: Any) -> None:
    @cached(maxsize=8)
    def identity(x: int) -> int:
        return x

    assert type(identity.cache) is Moka
    identity(1)
    assert identity.cache.get(1) == 1  # a lone int argument is its own key, as with lru_cache


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"maxsize": "10"}, TypeError, "maxsize"),
        ({"maxsize": 1.5}, TypeError, "maxsize"),
        ({"maxsize": True}, TypeError, "maxsize"),
        ({"maxsize": -1}, ValueError, "maxsize"),
        ({"maxsize": 2**64}, ValueError, "maxsize"),
        ({"ttl": "1"}, TypeError, "ttl"),
        ({"ttl": 0}, ValueError, "ttl"),
        ({"ttl": float("nan")}, ValueError, "ttl"),
        ({"tti": -1.0}, ValueError, "tti"),
        ({"tti": False}, TypeError, "tti"),
        ({"policy": "fifo"}, ValueError, "policy"),
        ({"policy": 1}, TypeError, "policy"),
        ({"weigher": 3}, TypeError, "weigher"),
        ({"key": "name"}, TypeError, "key"),
    ],
)
def test_bad_arguments_raise_at_decoration_time(
    kwargs: dict[str, Any], error: type[Exception], name: str
) -> None:
    with pytest.raises(error, match=rf"^{name} must "):
        cached(**kwargs)


def test_positional_maxsize_is_validated_too() -> None:
    with pytest.raises(TypeError, match=r"^maxsize must "):
        cached("10")  # type: ignore[call-overload]


# --------------------------------------------------------------------------- async


def test_async_function_results_are_cached() -> None:
    calls: list[tuple[int, int]] = []

    @cached(maxsize=1024, ttl=5.0)
    async def add(x: int, y: int) -> int:
        calls.append((x, y))
        await asyncio.sleep(0.01)
        return x + y

    assert inspect.iscoroutinefunction(add)
    assert asyncio.run(add(5, 6)) == 11
    assert asyncio.run(add(5, 6)) == 11  # another event loop, same cache
    assert calls == [(5, 6)]
    assert add.cache_info()[:2] == (1, 1)


def test_async_none_is_cached_and_exceptions_are_not() -> None:
    calls: list[int] = []

    @cached
    async def flaky(x: int) -> None:
        calls.append(x)
        if len(calls) == 1:
            raise ValueError("first call fails")

    with pytest.raises(ValueError, match="first call fails"):
        asyncio.run(flaky(1))
    assert asyncio.run(flaky(1)) is None
    assert asyncio.run(flaky(1)) is None
    assert calls == [1, 1]


@pytest.mark.parametrize("wait_concurrent", [False, True])
def test_async_wrapper_is_a_coroutine_function(wait_concurrent: bool) -> None:
    async def source() -> int:
        """Doc."""
        return 1

    wrapped = cached(wait_concurrent=wait_concurrent)(source)
    assert inspect.iscoroutinefunction(wrapped)
    assert wrapped.__wrapped__ is source
    assert wrapped.__doc__ == "Doc."
    assert asyncio.run(wrapped()) == 1


# --------------------------------------------------------------------------- wait_concurrent: threads


def test_wait_concurrent_threads_compute_once() -> None:
    calls: list[int] = []

    @cached(wait_concurrent=True)
    def slow(x: int) -> list[int]:
        calls.append(x)
        time.sleep(1.0)  # every thread arrives while this runs, even on a loaded machine
        return [x]

    results = run_threads(lambda: slow(7))
    assert calls == [7]
    kinds = {kind for kind, _ in results}
    assert kinds == {"ok"}
    assert len({id(value) for _, value in results}) == 1
    assert results[0][1] == [7]
    assert slow(7) is results[0][1]
    info = slow.cache_info()
    assert info.hits + info.misses == THREADS + 1


def test_wait_concurrent_threads_share_the_exception_and_cache_nothing() -> None:
    calls: list[int] = []

    @cached(wait_concurrent=True)
    def slow_failure(x: int) -> int:
        calls.append(x)
        time.sleep(1.0)
        if len(calls) == 1:
            raise LookupError("backend down")
        return x

    results = run_threads(lambda: slow_failure(3))
    assert calls == [3]
    assert {kind for kind, _ in results} == {"raised"}
    assert all(isinstance(exc, LookupError) for _, exc in results)
    assert len({id(exc) for _, exc in results}) == 1, "every caller gets the same exception object"
    assert slow_failure(3) == 3  # not cached: computed again
    assert calls == [3, 3]


def test_without_wait_concurrent_threads_do_not_wait() -> None:
    inside = threading.Barrier(2, timeout=30)

    @cached
    def meet(x: int) -> int:
        inside.wait()  # both threads must be inside at once, or this times out
        return x

    assert run_threads(lambda: meet(1), count=2) == [("ok", 1), ("ok", 1)]


# --------------------------------------------------------------------------- wait_concurrent: async


def test_wait_concurrent_async_awaiters_share_one_computation() -> None:
    calls: list[int] = []

    @cached(wait_concurrent=True)
    async def slow(x: int) -> list[int]:
        calls.append(x)
        await asyncio.sleep(0.05)
        return [x]

    async def main() -> list[list[int]]:
        return await asyncio.gather(*(slow(4) for _ in range(50)))

    results = asyncio.run(main())
    assert calls == [4]
    assert all(result is results[0] for result in results)
    assert asyncio.run(slow(4)) is results[0]  # stored in the cache


def test_wait_concurrent_async_different_keys_run_concurrently() -> None:
    calls: list[int] = []

    @cached(wait_concurrent=True)
    async def slow(x: int) -> int:
        calls.append(x)
        await asyncio.sleep(0.05)
        return x

    async def main() -> list[int]:
        return await asyncio.gather(*(slow(i % 5) for i in range(20)))

    assert asyncio.run(main()) == [i % 5 for i in range(20)]
    assert sorted(calls) == [0, 1, 2, 3, 4]


def test_wait_concurrent_async_cancelling_one_awaiter_spares_the_others() -> None:
    calls: list[int] = []

    async def main() -> None:
        release = asyncio.Event()

        @cached(wait_concurrent=True, key=lambda x: ("k", x))
        async def gated(x: int) -> str:
            calls.append(x)
            await release.wait()
            return f"value {x}"

        first = asyncio.ensure_future(gated(1))
        second = asyncio.ensure_future(gated(1))
        third = asyncio.ensure_future(gated(1))
        await asyncio.sleep(0.01)
        first.cancel()
        await asyncio.sleep(0.01)
        assert first.cancelled()
        release.set()
        assert await second == "value 1"
        assert await third == "value 1"
        assert await gated(1) == "value 1"
        assert ("k", 1) in gated.cache

    asyncio.run(main())
    assert calls == [1]


def test_wait_concurrent_async_result_is_stored_even_if_every_awaiter_left() -> None:
    calls: list[int] = []

    async def main() -> None:
        release = asyncio.Event()

        @cached(wait_concurrent=True, key=lambda x: ("k", x))
        async def gated(x: int) -> str:
            calls.append(x)
            await release.wait()
            return f"value {x}"

        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(gated(2), 0.05)
        release.set()
        for _ in range(500):
            if ("k", 2) in gated.cache:
                break
            await asyncio.sleep(0.01)
        assert ("k", 2) in gated.cache
        assert await gated(2) == "value 2"

    asyncio.run(main())
    assert calls == [2]


def test_wait_concurrent_async_exception_reaches_every_awaiter_and_is_not_cached() -> None:
    calls: list[int] = []

    @cached(wait_concurrent=True)
    async def failing(x: int) -> int:
        calls.append(x)
        await asyncio.sleep(0.05)
        if len(calls) == 1:
            raise LookupError("backend down")
        return x

    async def main() -> list[Any]:
        return await asyncio.gather(*(failing(9) for _ in range(10)), return_exceptions=True)

    results = asyncio.run(main())
    assert calls == [9]
    assert all(isinstance(result, LookupError) for result in results)
    assert len({id(result) for result in results}) == 1
    assert asyncio.run(failing(9)) == 9
    assert calls == [9, 9]


def test_wait_concurrent_async_event_loops_do_not_share_tasks() -> None:
    both_running = threading.Barrier(2, timeout=30)
    calls: list[int] = []

    @cached(wait_concurrent=True)
    async def meet(x: int) -> int:
        calls.append(x)
        # Each loop must run its own computation: a task shared with the other
        # loop would leave one side waiting here until the barrier breaks.
        await asyncio.get_running_loop().run_in_executor(None, both_running.wait)
        return x

    results = run_threads(lambda: asyncio.run(meet(5)), count=2)
    assert results == [("ok", 5), ("ok", 5)]
    assert calls == [5, 5]
    assert asyncio.run(meet(5)) == 5  # now cached
    assert calls == [5, 5]
