"""The Rust backend's own ``cached``: the native wrapper must act like the generic one.

The contract itself is in the conformance suite (``test_cached.py``); these tests
check what is specific to the native path: which functions get it, that its keys
are exactly ``moka_py._cached.make_key``'s, binding, pickling, counting under
threads, and garbage collection of the wrapper.
"""

from __future__ import annotations

import functools
import gc
import pickle
import threading
import weakref
from typing import Any, cast

import moka_py_rust
import pytest
from moka_py_rust._native import CachedFunction

make_key = pytest.importorskip("moka_py._cached").make_key


def test_plain_sync_functions_get_the_native_wrapper() -> None:
    def f(x: int) -> int:
        return x

    assert isinstance(moka_py_rust.cached(f), CachedFunction)
    assert isinstance(moka_py_rust.cached(maxsize=4, typed=True)(f), CachedFunction)
    assert isinstance(moka_py_rust.cached(maxsize=None, ttl=5, tti=1, policy="lru")(f), CachedFunction)


def test_other_forms_use_the_generic_wrapper() -> None:
    def f(x: int) -> int:
        return x

    async def g(x: int) -> int:
        return x

    assert not isinstance(moka_py_rust.cached(wait_concurrent=True)(f), CachedFunction)
    assert not isinstance(moka_py_rust.cached(key=lambda x: x)(f), CachedFunction)
    assert not isinstance(moka_py_rust.cached(g), CachedFunction)
    for w in (moka_py_rust.cached(wait_concurrent=True)(f), moka_py_rust.cached(g)):
        assert type(w.cache) is cast(Any, moka_py_rust.Moka)


def test_selected_backend_uses_this_cached() -> None:
    moka_py = pytest.importorskip("moka_py")
    if moka_py.backend().name != "rust":
        pytest.skip("the Rust backend is not the selected one")
    assert moka_py.cached is moka_py_rust.cached


CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((1,), {}),
    ((1.0,), {}),
    ((True,), {}),
    (("a",), {}),
    ((2**70,), {}),
    ((None,), {}),
    ((1, "a"), {}),
    ((), {}),
    ((), {"x": 1}),
    ((1,), {"x": 1, "y": (2, 3)}),
    ((1,), {"y": (2, 3), "x": 1}),
    (((1, 2),), {}),
]


@pytest.mark.parametrize("typed", [False, True])
def test_keys_are_make_key(typed: bool) -> None:
    seen: list[Any] = []

    @moka_py_rust.cached(maxsize=None, typed=typed)
    def f(*args: Any, **kwargs: Any) -> int:
        seen.append((args, kwargs))
        return len(seen)

    for args, kwargs in CALLS:
        f(*args, **kwargs)
        key = make_key(args, kwargs, typed)
        assert key in f.cache
        assert f.cache.get(key) == f(*args, **kwargs)


@pytest.mark.parametrize("typed", [False, True])
def test_hits_and_misses_match_lru_cache(typed: bool) -> None:
    ours = moka_py_rust.cached(maxsize=None, typed=typed)(lambda *a, **k: (a, k))
    ref = functools.lru_cache(maxsize=None, typed=typed)(lambda *a, **k: (a, k))
    for args, kwargs in CALLS * 2:
        assert ours(*args, **kwargs) == ref(*args, **kwargs)
    info, expected = ours.cache_info(), ref.cache_info()
    assert (info.hits, info.misses) == (expected.hits, expected.misses)


def test_unhashable_argument_raises_type_error() -> None:
    f = moka_py_rust.cached(lambda x: x)
    with pytest.raises(TypeError, match="unhashable"):
        f([1])
    assert f.cache_info()[:2] == (0, 0)


def test_method_binding() -> None:
    class Thing:
        def __init__(self, n: int) -> None:
            self.n = n

        def __hash__(self) -> int:
            return self.n

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Thing) and other.n == self.n

        @moka_py_rust.cached(maxsize=8)
        def times(self, k: int) -> int:
            return self.n * k

    a, b = Thing(2), Thing(3)
    assert (a.times(5), b.times(5), a.times(5)) == (10, 15, 10)
    assert Thing.times(a, 5) == 10
    assert Thing.times.cache_info()[:2] == (2, 2)
    assert cast(Any, a.times).__self__ is a


def test_pickled_by_reference() -> None:
    assert pickle.loads(pickle.dumps(module_level)) is module_level


def test_a_wrapper_pickle_cannot_find_raises_a_clear_pickling_error() -> None:
    def local(x: int) -> int:
        return x

    nameless = moka_py_rust.cached(functools.partial(local))
    assert isinstance(nameless, CachedFunction)
    assert "cached(functools.partial(" in repr(nameless)
    with pytest.raises(pickle.PicklingError, match="the cached partial has no __qualname__"):
        pickle.dumps(nameless)
    with pytest.raises(pickle.PicklingError, match=r"\.<locals>\.local is not this wrapper"):
        pickle.dumps(moka_py_rust.cached(local))


@moka_py_rust.cached
def module_level(x: int) -> int:
    return x


def test_counters_under_threads() -> None:
    f = moka_py_rust.cached(maxsize=None)(lambda x: x)
    f(1)
    per_thread, threads = 2_000, 4

    def work() -> None:
        for _ in range(per_thread):
            f(1)

    ts = [threading.Thread(target=work) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert f.cache_info()[:2] == (per_thread * threads, 1)
    f.cache_clear()
    assert f.cache_info()[:2] == (0, 0)
    assert f(1) == 1
    assert f.cache_info()[:2] == (0, 1)


def test_recursive_local_wrapper_is_collected() -> None:
    def make() -> Any:
        @moka_py_rust.cached(maxsize=None)
        def fib(n: int) -> int:
            return n if n < 2 else fib(n - 1) + fib(n - 2)

        assert fib(30) == 832040
        return weakref.ref(fib)

    ref = make()
    gc.collect()
    assert ref() is None


def test_cached_results_are_released_with_the_wrapper() -> None:
    class Value:
        pass

    def make() -> Any:
        f = moka_py_rust.cached(lambda x: Value())
        v = f(1)
        return weakref.ref(v)

    ref = make()
    gc.collect()
    assert ref() is None
