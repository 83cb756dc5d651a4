"""Internals of the generic ``cached`` (``moka_py._cached``), whatever ``moka_py.cached`` is.

The behavioural contract is in the conformance suite (``test_cached.py``); these
tests pin what only the generic implementation can show: its keys agree with
``functools``' on every input, counters stay exact while being read, and no
in-flight task is left behind.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moka_py import _cached
from moka_py._cached import cached, make_key

values = st.one_of(
    st.integers(-3, 3),
    st.floats(-3, 3).filter(lambda f: f == int(f)),
    st.booleans(),
    st.sampled_from(["a", "b", "1"]),
    st.none(),
    st.tuples(st.integers(0, 2), st.integers(0, 2)),
)
calls = st.tuples(
    st.lists(values, max_size=3).map(tuple),
    st.dictionaries(st.sampled_from(["a", "b", "c"]), values, max_size=3),
)


def reference_key(args: tuple[Any, ...], kwargs: dict[str, Any], typed: bool) -> Any:
    return functools._make_key(args, kwargs, typed)


@given(first=calls, second=calls, typed=st.booleans())
def test_keys_are_equal_exactly_when_functools_keys_are(
    first: tuple[tuple[Any, ...], dict[str, Any]], second: tuple[tuple[Any, ...], dict[str, Any]], typed: bool
) -> None:
    ours = make_key(*first, typed) == make_key(*second, typed)
    theirs = reference_key(*first, typed) == reference_key(*second, typed)
    assert ours == theirs
    hash(make_key(*first, typed))


def test_lone_int_and_str_are_their_own_key() -> None:
    assert make_key((5,), {}, False) == 5
    assert make_key(("x",), {}, False) == "x"
    assert make_key((5.0,), {}, False) == (5.0,)
    assert make_key((5,), {}, True) == (5, int)


def test_the_generic_wrapper_is_used_with_the_selected_moka() -> None:
    import moka_py

    @cached(maxsize=3)
    def identity(x: int) -> int:
        return x

    assert type(identity.cache) is moka_py.backend().module.Moka


def test_reading_counters_while_threads_count() -> None:
    @cached(maxsize=None)
    def identity(x: int) -> int:
        return x

    stop = threading.Event()
    seen: list[tuple[int, int]] = []

    def reader() -> None:
        while not stop.is_set():
            info = identity.cache_info()
            seen.append((info.hits, info.misses))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(20_000):
            identity(i % 10)
    finally:
        stop.set()
        thread.join()
    info = identity.cache_info()
    assert (info.hits, info.misses) == (19_990, 10)
    assert seen == sorted(seen), "counts never go backwards"


def test_validation_happens_once_and_the_first_function_reuses_that_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import moka_py

    built: list[Any] = []
    real = moka_py.Moka

    def counting_moka(*args: Any, **kwargs: Any) -> Any:
        built.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(moka_py, "Moka", counting_moka)
    decorator = cached(maxsize=7, ttl=3)
    assert len(built) == 1
    decorator(lambda: 1)
    assert len(built) == 1
    decorator(lambda: 2)
    assert built == [((7,), {"ttl": 3, "tti": None, "policy": "tiny_lfu", "weigher": None})] * 2


def test_decorating_a_non_callable_fails() -> None:
    with pytest.raises(TypeError, match="needs a callable"):
        cached(maxsize=3)(42)  # type: ignore[arg-type]


def in_flight_of(wrapper: Any) -> dict[Any, Any]:
    """The loads in flight of the wrapper's cache: its part of the backend's ``aget_with`` table."""
    package = type(wrapper.cache).__module__.partition(".")[0]
    table = importlib.import_module(f"{package}._aload")._in_flight
    assert isinstance(table, dict)
    return {slot: task for slot, task in table.items() if slot[1] == id(wrapper.cache)}


@pytest.mark.parametrize("outcome", ["value", "error", "cancelled awaiter"])
def test_no_task_is_left_in_flight(outcome: str) -> None:
    @cached(wait_concurrent=True)
    async def work(x: int) -> int:
        await asyncio.sleep(0.02)
        if outcome == "error":
            raise KeyError(x)
        return x

    async def main() -> None:
        waiter = asyncio.ensure_future(work(1))
        await asyncio.sleep(0)
        assert len(in_flight_of(work)) == 1
        if outcome == "cancelled awaiter":
            waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        await asyncio.sleep(0.1)

    asyncio.run(main())
    assert in_flight_of(work) == {}


def test_a_task_cancelled_before_it_starts_is_forgotten() -> None:
    @cached(wait_concurrent=True)
    async def work(x: int) -> int:
        return x

    async def main() -> None:
        waiter = asyncio.ensure_future(work(1))
        await asyncio.sleep(0)  # the waiter created the shared task, which has not run yet
        (task,) = in_flight_of(work).values()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        await asyncio.sleep(0)

    asyncio.run(main())
    assert in_flight_of(work) == {}
    assert asyncio.run(work(1)) == 1


def test_generic_module_exports() -> None:
    assert set(_cached.__all__) == {
        "OWN_KEY_TYPES",
        "CachedBoundMethod",
        "CachedDecorator",
        "CachedFunction",
        "CachedMethod",
        "CachedMethodDecorator",
        "HashedKey",
        "PlainWrapperFactory",
        "cache_info_of",
        "cached",
        "cached_with",
        "cachedmethod",
        "clear_with_stats",
        "make_key",
        "present_as_cached",
    }


def test_cached_with_uses_the_backends_plain_wrapper_only_where_it_applies() -> None:
    built: list[str] = []

    def factory(func: Any, cache: Any) -> Any:
        built.append(func.__name__)
        if func.__name__ == "declined":
            return None

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            k = make_key(args, kwargs, False)
            value = cache.get(k, _cached._MISSING)
            if value is not _cached._MISSING:
                return ("own", value)
            value = func(*args, **kwargs)
            cache.set(k, value)
            return value

        return wrapper

    own_cached = _cached.cached_with(factory)
    assert own_cached.__name__ == "cached" and own_cached.__doc__ == cached.__doc__

    @own_cached(maxsize=10)
    def plain(x: int) -> int:
        return x

    @own_cached(typed=True)
    def typed(x: int) -> int:
        return x

    @own_cached
    def declined(x: int) -> int:
        return x

    assert built == ["plain", "declined"]  # not asked for typed (nor key=, wait_concurrent, async)
    assert plain(1) == 1 and plain(1) == ("own", 1) and declined(2) == 2 and declined(2) == 2
    assert plain.cache_info()[:2] == (1, 1)
    assert plain.cache_parameters()["maxsize"] == 10 and plain.__wrapped__.__name__ == "plain"
    plain.cache_clear()
    assert plain.cache_info()[:2] == (0, 0)
    assert plain(1) == 1 and plain(1) == ("own", 1)  # the cache's statistics count again after a clear
    assert plain.cache_info()[:2] == (1, 1)
    assert typed(3) == 3 and typed(3) == 3 and typed.cache_info()[:2] == (1, 1)
